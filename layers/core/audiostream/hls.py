"""The HLS media playlist we publish: fMP4 segments, EVENT type, closed with ENDLIST when the session ends."""

from __future__ import annotations

from dataclasses import dataclass

import m3u8

# The session's media files, named once here: the playlist, the fMP4 init section, the segments.
PLAYLIST_NAME = "audio.m3u8"
INIT_NAME = "init.mp4"
_SEGMENT_STEM, _SEGMENT_DIGITS, _SEGMENT_SUFFIX = "audio_", 3, ".m4s"


def segment_name(index: int) -> str:
    return f"{_SEGMENT_STEM}{index:0{_SEGMENT_DIGITS}d}{_SEGMENT_SUFFIX}"


@dataclass(frozen=True)
class Segment:
    name: str
    duration: float


def render_playlist(segments: list[Segment], target: int, ended: bool) -> str:
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:7",
        f"#EXT-X-TARGETDURATION:{target}",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:EVENT",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        # Listeners want the story from its first word, not from the live edge where players join
        # an open playlist by default (Safari, hls.js without startPosition). The stream is made
        # faster than real time, so starting three target durations from the end is not needed.
        "#EXT-X-START:TIME-OFFSET=0,PRECISE=YES",
    ]
    if segments:
        lines.append(f'#EXT-X-MAP:URI="{INIT_NAME}"')
    for segment in segments:
        lines.append(f"#EXTINF:{segment.duration:.6f},")
        lines.append(segment.name)
    if ended:
        lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def parse_segments(playlist_text: str) -> list[Segment]:
    """The segments of a media playlist (as ffmpeg's hls muxer writes it), in order."""
    return [Segment(segment.uri, segment.duration) for segment in m3u8.loads(playlist_text).segments]


def close_playlist(playlist_text: str) -> str:
    """The same playlist (same segments, same target duration) with ``#EXT-X-ENDLIST``."""
    playlist = m3u8.loads(playlist_text)
    segments = [Segment(segment.uri, segment.duration) for segment in playlist.segments]
    return render_playlist(segments, int(playlist.target_duration or 1), ended=True)
