"""Measuring audio with the real tools: ffprobe for what we produced, espeak-ng alone for the reference."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path


def probe(path: Path) -> dict:
    """Codec and duration of a media file, as ffprobe reads it after decoding every packet."""
    answer = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-show_entries",
            "stream=codec_name,sample_rate,channels:format=duration",
            "-of",
            "json",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(answer.stdout)
    stream = data["streams"][0]
    return {
        "codec": stream["codec_name"],
        "sample_rate": int(stream["sample_rate"]),
        "channels": stream["channels"],
        "duration": float(data["format"]["duration"]),
    }


def decoded_duration(path: Path) -> float:
    """Seconds of audio ffmpeg decodes from the file (fails on a corrupt stream)."""
    answer = subprocess.run(
        ["ffmpeg", "-v", "error", "-xerror", "-i", str(path), "-f", "s16le", "-ac", "1", "-ar", "8000", "-"],
        capture_output=True,
        check=True,
    )
    return len(answer.stdout) / 2 / 8000


def probe_hls(init: bytes, segments: list[bytes]) -> dict:
    """Probe the stream a player would assemble: the init segment followed by every media segment."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "stream.mp4"
        path.write_bytes(init + b"".join(segments))
        facts = probe(path)
        facts["decoded_duration"] = decoded_duration(path)
        return facts


def espeak_alone_duration(text: str, lang: str = "en") -> float:
    """What espeak-ng by itself makes of the whole text, in seconds: the reference for our stream."""
    with tempfile.TemporaryDirectory() as folder:
        wav = Path(folder) / "reference.wav"
        subprocess.run(["espeak-ng", "-v", lang, "-w", str(wav)], input=text.encode(), check=True)
        return probe(wav)["duration"]
