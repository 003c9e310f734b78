"""Loudness as ffmpeg's ``ebur128`` filter (EBU R128, ITU-R BS.1770) measures it: the independent meter
the leveller's own arithmetic is checked against."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Loudness:
    integrated_lufs: float  # the Summary's "I:"
    true_peak_dbtp: float  # the Summary's true "Peak:" (ffmpeg writes dBFS; 4x oversampled, so dBTP)


def measured(input_args: list[str], stdin: bytes | None = None) -> Loudness:
    """ffmpeg's ebur128 summary of the audio its ``input_args`` open (ending in ``-i SOURCE``)."""
    answer = subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostats", "-v", "info", *input_args]
        + ["-map", "0:a:0", "-af", "ebur128=peak=true", "-f", "null", "-"],
        input=stdin,
        capture_output=True,
        check=True,
    )
    log = answer.stderr.decode(errors="replace")
    summary = log[log.rindex("Summary:") :]
    integrated = re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary)
    peak = re.search(r"True peak:\s+Peak:\s+(-?[\d.]+|-inf) dBFS", summary)
    assert integrated and peak, f"no ebur128 summary in ffmpeg's output:\n{summary}"
    return Loudness(float(integrated.group(1)), float(peak.group(1)))


def loudness_of_pcm(pcm: bytes, rate: int) -> Loudness:
    """16-bit mono PCM at ``rate``."""
    return measured(["-f", "s16le", "-ar", str(rate), "-ac", "1", "-i", "pipe:0"], stdin=pcm)


def loudness_of_file(path: Path, *input_options: str) -> Loudness:
    return measured([*input_options, "-i", str(path)])
