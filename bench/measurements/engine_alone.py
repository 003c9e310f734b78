"""Each engine alone on a text, with no stack around it: what the stack's wall time is compared with.

- espeak: one espeak-ng piped into one ffmpeg writing the same HLS, no storage (the plain CLI).
- hibari: a fresh Python process loads hibari's packaged model ("heart", one onnxruntime thread, as the
  engine loads it) and warms it with one sentence, as the engine does before its first session; then
  the clock starts, and `Hibari.stream` makes the whole text's PCM sentence by sentence, each sentence
  piped as 16-bit PCM (unleveled, untrimmed) into the same ffmpeg HLS command as soon as it is made,
  until ffmpeg has written its last segment. The model load is not timed: the stack loads it once per
  process, before any session.

Both pipes hold what the stack's encoder input holds (``INPUT_PIPE_BYTES``): through a default pipe
the engine would wait for ffmpeg at every sentence, and that limit would be slower than the stack.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from plan import BENCH, REPO

from audiostream.media.encoder import INPUT_PIPE_BYTES, HlsEncoder

ALONE = {"espeak": "espeak-ng | ffmpeg", "hibari": "hibari (Hibari.stream) | ffmpeg"}


def ffmpeg_hls(input_options: list[str], folder: str) -> list[str]:
    """The stack's own encoder command (audiostream.media.encoder's, with its defaults), reading
    ``input_options`` from stdin instead of raw PCM, so that the limit and the stack encode alike."""
    command = HlsEncoder(Path(folder), 22050).command
    start = command.index("-f")  # the raw-PCM input options, up to and including "-i pipe:0"
    end = command.index("pipe:0") + 1
    return [*command[:start], *input_options, "-i", "pipe:0", *command[end:]]


def espeak_alone_seconds(spoken: str) -> float:
    """The limit of the tools: one espeak-ng piped into one ffmpeg writing the same HLS, no storage."""
    with tempfile.TemporaryDirectory() as folder:
        began = time.perf_counter()
        espeak = subprocess.Popen(
            ["espeak-ng", "-v", "en", "--stdout"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, pipesize=INPUT_PIPE_BYTES,
        )  # fmt: skip
        ffmpeg = subprocess.Popen(ffmpeg_hls(["-f", "wav"], folder), stdin=espeak.stdout)
        espeak.stdout.close()
        espeak.communicate(spoken.encode())
        if ffmpeg.wait() != 0 or espeak.returncode != 0:
            raise RuntimeError(f"espeak-ng | ffmpeg failed ({espeak.returncode}, {ffmpeg.returncode})")
        return time.perf_counter() - began


def hibari_alone_seconds(spoken: str) -> float:
    """The limit of the model: hibari alone in a fresh process (see hibari_alone), timed from after
    its model is loaded and warmed."""
    child = subprocess.run(
        [sys.executable, str(BENCH / "run.py"), "--hibari-alone"],
        input=spoken, capture_output=True, text=True, timeout=600, cwd=REPO,
    )  # fmt: skip
    if child.returncode != 0:
        raise RuntimeError(f"hibari alone failed:\n{child.stderr[-3000:]}")
    return json.loads(child.stdout.splitlines()[-1])["wall_s"]


def hibari_alone() -> None:
    """`run.py --hibari-alone`, in a fresh process: load the model as the engine does, warm it, then
    time `Hibari.stream` over the text on stdin, each sentence's PCM piped into ffmpeg as it is made."""
    import numpy as np
    from hibari import Hibari
    from hibari.tts import ASSETS

    spoken = sys.stdin.read()
    model = Hibari(voice="heart", model=os.path.join(ASSETS, "hibari.onnx"), threads=1)
    model("Warm up, Kalamazoo.")
    samples = 0
    with tempfile.TemporaryDirectory() as folder:
        began = time.perf_counter()
        pcm = ["-f", "s16le", "-ar", str(Hibari.sample_rate), "-ac", "1"]
        ffmpeg = subprocess.Popen(ffmpeg_hls(pcm, folder), stdin=subprocess.PIPE, pipesize=INPUT_PIPE_BYTES)
        for wave in model.stream(spoken):
            ffmpeg.stdin.write((np.clip(wave, -1.0, 1.0) * 32767.0).astype("<i2").tobytes())
            samples += len(wave)
        ffmpeg.stdin.close()
        if ffmpeg.wait() != 0:
            raise RuntimeError(f"ffmpeg failed ({ffmpeg.returncode})")
        wall = time.perf_counter() - began
    print(json.dumps({"wall_s": wall, "audio_s": samples / Hibari.sample_rate}))


ALONE_SECONDS = {"espeak": espeak_alone_seconds, "hibari": hibari_alone_seconds}
