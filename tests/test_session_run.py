"""One owner for a run: whatever ends a session, every thread its run started has ended with it.

Each ending is brought about at a chosen step of the engine (before a given chunk), not after a
chosen time, so that a busy machine changes nothing but the test's duration."""

from __future__ import annotations

import threading
import time

import pytest

from audiostream.config import get_settings
from audiostream.generation.session_run import SessionRun
from audiostream.speech.engines.base import TtsError
from audiostream.store.sessions import State

from support.engines import EspeakBacked
from support.faults import fail_requests
from support.paths import read_text
from support.sessions import playlist_of, started

S3_DOWN = b"<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>"


class SteppedEngine(EspeakBacked):
    """espeak-ng, with ``before_chunk(number)`` and ``after_chunk(number)`` called around each chunk
    it speaks (from 1)."""

    def __init__(self, settings, before_chunk=lambda number: None, after_chunk=lambda number: None):
        super().__init__(settings, "stepped")
        self.before_chunk, self.after_chunk = before_chunk, after_chunk
        self.chunks = 0

    def synthesize(self, text, lang, voice):
        self.chunks += 1
        self.before_chunk(self.chunks)
        pcm = self.inner.synthesize(text, lang, voice)
        self.after_chunk(self.chunks)
        return pcm


def threads_of(session_id: str) -> list[str]:
    """Every thread of the run is named after its session (``publish-1a2b3c4d`` and so on)."""
    return [thread.name for thread in threading.enumerate() if thread.name.endswith(session_id[:8])]


@pytest.fixture
def run_with(settings, sessions, media, offer_engine):
    """Run a session of ``text`` to its end; ``before_chunk(run, number)`` and ``after_chunk(run,
    number)`` are called around each chunk the engine speaks. Answers the run, its final state and
    its engine."""

    def run(
        text: str, before_chunk=lambda run, number: None, after_chunk=lambda run, number: None
    ) -> tuple[SessionRun, State, SteppedEngine]:
        engine = SteppedEngine(
            settings,
            lambda number: before_chunk(session_run, number),
            lambda number: after_chunk(session_run, number),
        )
        offer_engine("stepped", lambda _settings: engine)
        event = started(get_settings(), sessions, media, text, engine="stepped")
        claimed = sessions.claim(event["session_id"])
        session_run = SessionRun(
            claimed, event["text"], get_settings(), sessions, media, deadline=time.monotonic() + 600
        )
        return session_run, session_run.run(), engine

    return run


def assert_no_thread_of_the_run_is_alive(session_run: SessionRun) -> None:
    started_names = {worker.name.split("-")[0] for worker in session_run.crew.workers}
    assert {"revoked", "progress", "publish", "feed", "speech"} <= started_names, started_names
    assert session_run.crew.left_behind == []
    assert [worker.name for worker in session_run.crew.workers if worker.alive] == []
    assert threads_of(session_run.session_id) == []


def test_after_success_no_thread_of_the_run_is_alive(settings, run_with):
    session_run, state, _engine = run_with(read_text("three_paragraphs.txt")[:600])
    assert state is State.SUCCESS
    assert_no_thread_of_the_run_is_alive(session_run)
    assert playlist_of(settings, session_run.session_id).is_endlist


def test_after_an_engine_error_no_thread_of_the_run_is_alive(settings, sessions, run_with):
    def fail_third(run, number: int) -> None:
        if number == 3:
            raise TtsError("the engine refused the third chunk")

    session_run, state, _engine = run_with(read_text("three_paragraphs.txt"), fail_third)
    assert state is State.FAILURE
    assert "the engine refused the third chunk" in sessions.get(session_run.session_id).error
    assert_no_thread_of_the_run_is_alive(session_run)


def test_after_an_s3_fault_no_thread_of_the_run_is_alive(settings, sessions, run_with):
    def storage_down_from_the_second(run, number: int) -> None:
        if number == 2:
            fail_requests("PutObject", 10_000, 500, S3_DOWN)

    session_run, state, _engine = run_with(read_text("three_paragraphs.txt"), storage_down_from_the_second)
    assert state is State.FAILURE
    assert sessions.get(session_run.session_id).error == "a storage request (PutObject) failed: InternalError"
    assert_no_thread_of_the_run_is_alive(session_run)


def test_after_a_cancel_no_thread_of_the_run_is_alive(settings, sessions, run_with):
    def cancel_before_the_third(run, number: int) -> None:
        if number == 3:
            sessions.transition(run.session_id, State.REVOKED, only_from=State.PROGRESS)

    def third_done_once_the_cancel_is_seen(run, number: int) -> None:
        # The engine's call ends as the watch sees the cancel: the speaker stops between two calls.
        # (One stopped in the middle of a call is left behind: test_an_engine_that_hangs_....)
        if number == 3:
            assert run.watch.revoked.wait(timeout=10)

    text = read_text("three_paragraphs.txt")
    session_run, state, engine = run_with(text, cancel_before_the_third, third_done_once_the_cancel_is_seen)
    assert state is State.REVOKED
    assert sessions.get(session_run.session_id).state is State.REVOKED
    assert engine.chunks < 20, "the run went on speaking long after the cancel"
    assert_no_thread_of_the_run_is_alive(session_run)
    assert playlist_of(settings, session_run.session_id).is_endlist


def test_after_running_out_of_time_no_thread_of_the_run_is_alive(settings, sessions, run_with):
    def out_of_time_during_the_second(run, number: int) -> None:
        if number == 2:
            run.deadline = time.monotonic()  # the third chunk finds the invocation out of time

    session_run, state, engine = run_with(read_text("three_paragraphs.txt"), out_of_time_during_the_second)
    assert state is State.FAILURE
    assert "before the function's time limit" in sessions.get(session_run.session_id).error
    assert engine.chunks == 2
    assert_no_thread_of_the_run_is_alive(session_run)
