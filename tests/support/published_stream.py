"""A session's published HLS stream copied out of storage as a player would fetch it: the playlist and
every object it names, in one folder, for ffmpeg's HLS demuxer to play back."""

from __future__ import annotations

import subprocess
from pathlib import Path

import m3u8

from .sessions import stored


def download_stream(settings, session_id: str, folder: Path) -> tuple[m3u8.M3U8, Path]:
    """The parsed playlist and where its copy is; fails if the playlist names an object not stored."""
    text = stored(settings, session_id, "audio.m3u8")["Body"].read().decode()
    playlist = m3u8.loads(text)
    names = [playlist.segment_map[0].uri] if playlist.segments else []
    names += [segment.uri for segment in playlist.segments]
    for name in names:
        (folder / name).write_bytes(stored(settings, session_id, name)["Body"].read())
    path = folder / "audio.m3u8"
    path.write_text(text)
    return playlist, path


def decoded_pcm(path: Path, rate: int) -> bytes:
    """The whole stream decoded by ffmpeg to 16-bit mono PCM at ``rate`` (fails on a corrupt stream)."""
    return subprocess.run(
        ["ffmpeg", "-v", "error", "-xerror", "-i", str(path), "-ac", "1", "-ar", str(rate), "-f", "s16le", "pipe:1"],
        capture_output=True,
        check=True,
    ).stdout
