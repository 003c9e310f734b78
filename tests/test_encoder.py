"""The encoder takes a whole sentence of PCM at once, so that the engine never waits for ffmpeg."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from audiostream.media.encoder import INPUT_PIPE_BYTES, HlsEncoder


def test_a_sentence_is_handed_over_while_ffmpeg_is_busy(tmp_path):
    # Ten seconds at 24 kHz, hibari's longest sentences: through a default 64 KiB pipe this write
    # would wait until ffmpeg had read all but the last 64 KiB of it.
    sentence = b"\x01\x00" * 24000 * 10
    assert len(sentence) < INPUT_PIPE_BYTES
    encoder = HlsEncoder(tmp_path, 24000)
    encoder.start()
    os.kill(encoder._process.pid, signal.SIGSTOP)  # ffmpeg reads nothing until it is continued
    try:
        writer = threading.Thread(target=encoder.write, args=(sentence,))
        writer.start()
        writer.join(timeout=10)
        handed_over = not writer.is_alive()
    finally:
        os.kill(encoder._process.pid, signal.SIGCONT)
    writer.join()
    encoder.close()
    assert handed_over, "the write waited for ffmpeg"
    assert sum(segment.duration for segment in encoder.finished_parts()) == pytest.approx(10.0, abs=0.05)
