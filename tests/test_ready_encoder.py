"""An ffmpeg started before its session: taken when it is of the session's recipe and still runs, and
nothing of it is left behind (no process, no working directory) when it is not taken."""

from __future__ import annotations

import math
import struct
import tempfile
from pathlib import Path

import psutil
import pytest

from audiostream.generation.invocation import generate
from audiostream.media import ready_encoder
from audiostream.media.encoder import EncoderError, EncoderRecipe
from audiostream.media.ready_encoder import READY, ReadyEncoder

from support.audio import decoded_duration
from support.sessions import published_audio, started

RATE = 22050
RECIPE = EncoderRecipe(RATE)


def tone(seconds: float, rate: int = RATE) -> bytes:
    return b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * n / rate))) for n in range(int(seconds * rate))
    )


def encoded_seconds(encoder, tmp_path) -> float:
    """Write five seconds, close, and decode what the encoder wrote (init and every part)."""
    encoder.write(tone(5.0, encoder_rate(encoder)))
    encoder.close()
    whole = tmp_path / "whole.mp4"
    whole.write_bytes(
        encoder.init_path.read_bytes() + b"".join(encoder.part_path(p).read_bytes() for p in encoder.finished_parts())
    )
    return decoded_duration(whole)


def encoder_rate(encoder) -> int:
    return int(encoder.command[encoder.command.index("-ar") + 1])


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.fixture
def ready():
    pool = ReadyEncoder()
    yield pool
    pool.close()


def test_the_encoder_prepared_is_the_one_taken_and_it_encodes_the_whole_input(ready, tmp_path):
    ready.prepare(RECIPE)
    waiting = ready._waiting[1]
    assert waiting.running() and waiting.workdir.is_dir()
    taken = ready.take(RECIPE)
    assert taken is waiting and taken.pid == waiting.pid
    try:
        assert encoded_seconds(taken, tmp_path) == pytest.approx(5.0, abs=0.05)
    finally:
        ready_encoder.discard(taken)
    assert not taken.workdir.exists()
    assert ready._waiting is None  # taken: the next one is started by the session's end, not here


def test_a_waiting_encoder_that_died_is_replaced_by_a_new_one(ready, tmp_path):
    ready.prepare(RECIPE)
    dead = ready._waiting[1]
    dead.kill()
    taken = ready.take(RECIPE)
    try:
        assert taken.pid != dead.pid and taken.running()
        assert not dead.workdir.exists()
        assert encoded_seconds(taken, tmp_path) == pytest.approx(5.0, abs=0.05)
    finally:
        ready_encoder.discard(taken)


def test_a_session_of_another_recipe_ends_the_waiting_encoder_and_gets_its_own(ready, tmp_path):
    ready.prepare(RECIPE)
    other_rate = ready._waiting[1]
    taken = ready.take(EncoderRecipe(24000))
    try:
        assert not alive(other_rate.pid) and not other_rate.workdir.exists()
        assert encoder_rate(taken) == 24000
        assert encoded_seconds(taken, tmp_path) == pytest.approx(5.0, abs=0.05)
    finally:
        ready_encoder.discard(taken)


def test_preparing_again_keeps_the_one_waiting_and_another_recipe_replaces_it(ready):
    ready.prepare(RECIPE)
    first = ready._waiting[1]
    ready.prepare(RECIPE)
    assert ready._waiting[1] is first
    ready.prepare(EncoderRecipe(24000))
    assert not alive(first.pid) and not first.workdir.exists()
    assert encoder_rate(ready._waiting[1]) == 24000


def test_closing_leaves_no_process_and_no_directory(ready):
    ready.prepare(RECIPE)
    waiting = ready._waiting[1]
    ready.close()
    assert not alive(waiting.pid) and not waiting.workdir.exists()


def test_an_ffmpeg_that_cannot_start_is_said_by_the_session_that_needs_it(ready, tmp_path):
    broken = EncoderRecipe(RATE, ffmpeg=str(tmp_path / "no-ffmpeg-here"))
    before = set(Path(tempfile.gettempdir()).glob("audiostream-encoder-*"))
    ready.prepare(broken)  # the session that prepares it has ended: it must not fail for this
    assert ready._waiting is None
    with pytest.raises(EncoderError, match="ffmpeg could not be started"):
        ready.take(broken)
    assert set(Path(tempfile.gettempdir()).glob("audiostream-encoder-*")) <= before  # its directory is gone


def test_each_session_leaves_the_next_its_encoder_and_the_next_speaks_through_it(
    settings, sessions, media, monkeypatch
):
    text = "Hello there. This sentence is spoken through an encoder that was already running."
    first = started(settings, sessions, media, text)
    assert generate(first)["outcome"] == "SUCCESS"
    left = READY._waiting
    assert left is not None and left[0].input_rate == RATE and left[1].running()
    new_encoders = []
    start_new = ready_encoder.started
    monkeypatch.setattr(ready_encoder, "started", lambda recipe: new_encoders.append(recipe) or start_new(recipe))
    second = started(settings, sessions, media, text + " Again.")
    assert generate(second)["outcome"] == "SUCCESS"
    # The second session started no ffmpeg of its own: the only new one is the third's, left ready.
    assert new_encoders == [left[0]]
    # It ended the one it took, and removed its directory.
    assert not alive(left[1].pid) and not left[1].workdir.exists()
    assert READY._waiting is not None and READY._waiting[1].pid != left[1].pid
    playlist, facts = published_audio(settings, second["session_id"])
    assert playlist.is_endlist and facts["decoded_duration"] == pytest.approx(
        sum(s.duration for s in playlist.segments), abs=0.1
    )


def test_with_ready_encoder_off_a_session_leaves_nothing_running(settings, sessions, media, monkeypatch):
    """Off, nothing is prepared: every session starts its own encoder (take finds none waiting)."""
    READY.close()
    monkeypatch.setenv("READY_ENCODER", "false")
    from audiostream.config import get_settings

    get_settings.cache_clear()
    event = started(get_settings(), sessions, media, "Hello there, nothing waits after me.")
    assert generate(event)["outcome"] == "SUCCESS"
    assert READY._waiting is None
    # This process's own (a dev stack other tests started has a ready ffmpeg of its own, a grandchild).
    assert not [child for child in psutil.Process().children(recursive=False) if child.name() == "ffmpeg"]
