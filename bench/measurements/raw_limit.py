"""The raw limit of the first sound: the tools alone, no HTTP, no storage, no session."""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path

from plan import Plan, text
from stats import spread

from audiostream.media.encoder import INPUT_PIPE_BYTES

from .engine_alone import ffmpeg_hls


def raw_first_segment_seconds(spoken: str) -> float:
    """The raw limit of the first sound: espeak-ng piped into one ffmpeg that does not probe its input
    (``-probesize 32 -analyzeduration 0``), writing the stack's HLS fMP4, timed from espeak-ng's start
    until ffmpeg's own playlist lists its first segment. No HTTP, no storage, no session."""
    with tempfile.TemporaryDirectory() as folder:
        command = ffmpeg_hls(["-f", "wav"], folder)  # the stack's command: it does not probe
        playlist = Path(command[-1])
        began = time.perf_counter()
        espeak = subprocess.Popen(
            ["espeak-ng", "-v", "en", "--stdout"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, pipesize=INPUT_PIPE_BYTES,
        )  # fmt: skip
        ffmpeg = subprocess.Popen(command, stdin=espeak.stdout)
        espeak.stdout.close()
        espeak.stdin.write(spoken.encode())
        espeak.stdin.close()
        listed = None
        while listed is None:
            try:
                if "#EXTINF" in playlist.read_text():
                    listed = time.perf_counter() - began
            except FileNotFoundError:
                pass
            if listed is None:
                if ffmpeg.poll() is not None:
                    raise RuntimeError(f"espeak-ng | ffmpeg listed no segment (ffmpeg {ffmpeg.returncode})")
                time.sleep(0.001)
        ffmpeg.wait()
        espeak.wait()
        return listed


def measure_raw_limit(plan: Plan) -> dict:
    """The raw limit of the first sound (raw_first_segment_seconds), on the first-segment text."""
    times = []
    for number in range(plan.limit_runs):
        times.append(raw_first_segment_seconds(f"{text(plan.first_segment_text)} ({number})") * 1000)
        time.sleep(0.2)
    return spread(times)
