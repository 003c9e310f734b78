"""The encoder's input on its own thread: every piece levelled and written in speaking order, the
writer's failure raised to the speaker, and what was handed over before a fault still written."""

from __future__ import annotations

import math
import os
import signal
import struct

import numpy as np
import pytest

from audiostream.media.encoder import EncoderError, HlsEncoder
from audiostream.media.encoder_feed import EncoderFeed
from audiostream.media.loudness import LoudnessLeveller

from support.loudness_meter import loudness_of_pcm
from support.published_stream import decoded_pcm

RATE = 24000


def tone(seconds: float, amplitude: float) -> bytes:
    samples = int(seconds * RATE)
    return struct.pack(
        f"<{samples}h", *(int(amplitude * 32767 * math.sin(2 * math.pi * 300 * n / RATE)) for n in range(samples))
    )


def silence(seconds: float) -> bytes:
    return bytes(2 * int(seconds * RATE))


def encoded_pcm(encoder: HlsEncoder, folder) -> np.ndarray:
    stream = folder / "stream.mp4"
    parts = [encoder.part_path(part).read_bytes() for part in encoder.finished_parts()]
    stream.write_bytes(encoder.init_path.read_bytes() + b"".join(parts))
    return np.frombuffer(decoded_pcm(stream, RATE), dtype="<i2").astype(np.float32) / 32768


def started_encoder(folder) -> HlsEncoder:
    encoder = HlsEncoder(folder / "work", RATE)
    encoder.workdir.mkdir()
    encoder.start()
    return encoder


def started_feed(encoder, **options) -> EncoderFeed:
    feed = EncoderFeed(encoder, LoudnessLeveller(RATE, -16.0), **options)
    feed.start()
    return feed


def test_pieces_are_levelled_and_written_in_the_order_given(tmp_path):
    encoder = started_encoder(tmp_path)
    feed = started_feed(encoder)
    for piece in (tone(1.0, 0.03), silence(1.0), tone(1.0, 0.03)):  # a quiet voice, a pause, the voice again
        feed.put(piece)
    feed.finish()
    encoder.close()

    out = encoded_pcm(encoder, tmp_path)
    assert out.size / RATE == pytest.approx(3.0, abs=0.05)
    # The middle of each second (the encoder delays the stream by a few milliseconds).
    second = [float(np.sqrt(np.mean(out[int((i + 0.1) * RATE) : int((i + 0.9) * RATE)] ** 2))) for i in range(3)]
    assert second[1] < 0.001 < second[0] and second[2] > 0.001  # tone, pause, tone: in order
    assert loudness_of_pcm(tone(1.0, 0.03), RATE).integrated_lufs < -30
    assert loudness_of_pcm((out * 32767).astype("<i2").tobytes(), RATE).integrated_lufs == pytest.approx(-16, abs=1.5)


def test_a_writer_that_failed_stops_the_speaker(tmp_path):
    encoder = started_encoder(tmp_path)
    feed = started_feed(encoder)
    encoder.kill()  # ffmpeg is gone: the writer's next write fails
    with pytest.raises(EncoderError, match="ffmpeg stopped mid-stream"):
        for _ in range(100):  # the queue holds a few pieces; the writer fails on the first
            feed.put(tone(0.5, 0.3))
    with pytest.raises(EncoderError):
        feed.finish()


def test_what_was_handed_over_before_a_fault_is_still_written(tmp_path):
    encoder = started_encoder(tmp_path)
    feed = started_feed(encoder)
    with pytest.raises(RuntimeError, match="the engine failed"):
        try:
            for _ in range(4):
                feed.put(tone(1.0, 0.3))
            raise RuntimeError("the engine failed")
        finally:
            feed.finish_after_fault()
    encoder.close()
    assert sum(part.duration for part in encoder.finished_parts()) == pytest.approx(4.0, abs=0.05)


def test_an_ffmpeg_that_takes_nothing_is_killed_and_the_speaker_told(tmp_path):
    encoder = started_encoder(tmp_path)
    os.kill(encoder._process.pid, signal.SIGSTOP)  # alive, reading nothing: the pipe fills, then the queue
    feed = started_feed(encoder, stall_seconds=1.0)
    with pytest.raises(EncoderError, match="ffmpeg took no audio for 1 s"):
        for _ in range(100):  # 100 s of speech: far more than the pipe (1 MiB) and the queue hold
            feed.put(tone(1.0, 0.3))
    assert encoder._process.poll() is not None  # killed: nothing is left hanging
    with pytest.raises(EncoderError):
        feed.finish()
