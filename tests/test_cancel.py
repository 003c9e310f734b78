"""Cancel: POST /audiostream/cancel/<id>/ makes a session REVOKED at once, and generate stops within a
second wherever it is waiting (between chunks, in an engine that hangs, on a model still writing),
publishes what it had encoded, closes every playlist, and writes nothing after that."""

from __future__ import annotations

import json
import threading
import time

import m3u8
import pytest

from audiostream import aws
from audiostream.api.start import start_session
from audiostream.api.start_request import StartRequest
from audiostream.config import get_settings
from audiostream.generation.invocation import generate
from audiostream.store.sessions import State
from devstack.functions import load_handler

from support.engines import EspeakBacked
from support.events import cancel_event
from support.fake_openai import FakeOpenAi
from support.paths import EVENTS, read_text
from support.sessions import RecordingInvoker, started, stored

LONG_TEXT = read_text("three_paragraphs.txt") * 4


class SlowEngine(EspeakBacked):
    """espeak-ng that waits ``delay`` seconds before each chunk, as a remote engine may; with
    ``hang_on``, the chunk holding those words waits ``hang`` seconds (an engine that hangs)."""

    def __init__(self, settings, delay: float, hang_on: str | None = None, hang: float = 60.0):
        super().__init__(settings, "slow")
        self.delay, self.hang_on, self.hang = delay, hang_on, hang
        self.chunks_begun = 0

    def synthesize(self, text, lang, voice):
        self.chunks_begun += 1
        time.sleep(self.hang if self.hang_on and self.hang_on in text else self.delay)
        return self.inner.synthesize(text, lang, voice)


@pytest.fixture
def cancel(moto, lambda_context):
    handler = load_handler("cancel")

    def call(task_id: str) -> tuple[int, dict]:
        answer = handler(cancel_event(task_id), lambda_context)
        return answer["statusCode"], json.loads(answer["body"])

    return call


@pytest.fixture
def slow_engine(settings, offer_engine, monkeypatch):
    """``slow_engine(delay, hang_on=None)``: the engine "slow", offered for this test."""

    def offer(delay: float, hang_on: str | None = None) -> SlowEngine:
        engine = SlowEngine(settings, delay, hang_on)
        offer_engine("slow", lambda _settings: engine)
        monkeypatch.setenv("TTS_ENGINES", "espeak,slow")
        get_settings.cache_clear()
        return engine

    return offer


def listing(settings, session_id) -> dict[str, str]:
    """Every object of the session, with its ETag: what a write after the end would change."""
    answer = aws.s3().list_objects_v2(
        Bucket=settings.storage.media_bucket, Prefix=f"{settings.storage.media_prefix}/{session_id}/"
    )
    return {item["Key"].rsplit("/", 1)[1]: item["ETag"] for item in answer.get("Contents", [])}


def generating(event: dict) -> tuple[threading.Thread, dict]:
    """generate, run on a thread as Lambda would run it; the dict gets its answer and when it came."""
    ended: dict = {}

    def run() -> None:
        ended["answer"] = generate(event)
        ended["at"] = time.monotonic()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, ended


def assert_closed_over_what_is_stored(settings, session_id: str) -> m3u8.M3U8:
    objects = listing(settings, session_id)
    audio = m3u8.loads(stored(settings, session_id, "audio.m3u8")["Body"].read().decode())
    subtitles = m3u8.loads(stored(settings, session_id, "subs.m3u8")["Body"].read().decode())
    assert audio.is_endlist and subtitles.is_endlist
    assert [s.duration for s in subtitles.segments] == [s.duration for s in audio.segments]
    assert {segment.uri for segment in audio.segments + subtitles.segments} <= set(objects)
    return audio


def cancelled_while_running(settings, cancel, sessions, event, after: float) -> tuple[float, dict]:
    """Cancel ``after`` seconds into generate; answers how long generate took to end after the cancel
    was answered, and its answer. Checks the cancel's own answer and that nothing is written after."""
    session_id = event["session_id"]
    thread, ended = generating(event)
    time.sleep(after)
    assert sessions.get(session_id).state is State.PROGRESS, "generate finished before the cancel"
    status, body = cancel(session_id)
    answered = time.monotonic()
    assert status == 202 and body["state"] == "REVOKED" and body["status"] == "Task was revoked"
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert ended["answer"] == {"session_id": session_id, "outcome": "REVOKED"}
    took = ended["at"] - answered
    # Nothing is written once generate has ended: the bucket is the same seconds later.
    before = listing(settings, session_id)
    time.sleep(2)
    assert listing(settings, session_id) == before
    return took, before


def test_a_long_text_cancelled_two_seconds_in_ends_revoked_within_a_second(
    settings, slow_engine, cancel, sessions, media
):
    engine = slow_engine(0.3)  # about 3 s of chunks: the text is far from spoken after 2 s
    event = started(get_settings(), sessions, media, LONG_TEXT, engine="slow")
    took, _ = cancelled_while_running(get_settings(), cancel, sessions, event, after=2.0)
    assert took < 1.0
    audio = assert_closed_over_what_is_stored(get_settings(), event["session_id"])
    session = sessions.get(event["session_id"])
    assert session.state is State.REVOKED
    # What was made before the cancel stays playable, and the status says how much.
    assert audio.segments and session.segments == len(audio.segments)
    assert session.duration == pytest.approx(sum(s.duration for s in audio.segments), abs=0.01)
    assert 0 < len(session.spoken_text) < len(LONG_TEXT) and engine.chunks_begun < 20
    assert json.loads(stored(get_settings(), event["session_id"], "transcript.json")["Body"].read())["sentences"]


def test_an_engine_that_hangs_is_left_behind_by_the_cancel(settings, slow_engine, cancel, sessions, media):
    slow_engine(0.05, hang_on="hundred")  # the second chunk hangs for a minute
    event = started(get_settings(), sessions, media, LONG_TEXT, engine="slow")
    took, _ = cancelled_while_running(get_settings(), cancel, sessions, event, after=1.0)
    assert took < 1.0
    audio = assert_closed_over_what_is_stored(get_settings(), event["session_id"])
    assert audio.segments  # the first chunk, spoken before the hang


def test_a_model_still_writing_is_left_behind_by_the_cancel(settings, cancel, sessions, media, monkeypatch):
    model = FakeOpenAi(read_text("three_paragraphs.txt"), token_delay=0.2)  # about 30 s of writing
    try:
        monkeypatch.setenv("OPENAI_MODEL", "local-story-model")
        monkeypatch.setenv("OPENAI_BASE_URL", model.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-key")
        monkeypatch.setenv("LLM_TIMEOUT_SECONDS", "60")
        get_settings.cache_clear()
        invoker = RecordingInvoker()
        request = StartRequest(text="Tell me a story.", text_given=False, lang="en", engine="espeak", voice=None)
        start_session(request, get_settings(), sessions, media, invoker)
        (event,) = invoker.events
        took, _ = cancelled_while_running(get_settings(), cancel, sessions, event, after=2.5)
    finally:
        model.stop()
    assert took < 1.0
    assert_closed_over_what_is_stored(get_settings(), event["session_id"])
    assert sessions.get(event["session_id"]).spoken_as == "llm"


def test_a_pending_session_cancelled_is_never_generated(settings, cancel, sessions, media):
    event = started(settings, sessions, media, "Hello there.")
    status, body = cancel(event["session_id"])
    assert status == 202 and body["state"] == "REVOKED"
    assert_closed_over_what_is_stored(settings, event["session_id"])
    assert generate(event)["outcome"] == "skipped"  # the claim needs PENDING
    assert set(listing(settings, event["session_id"])) == {"audio.m3u8", "subs.m3u8", "master.m3u8"}


def test_a_session_that_has_ended_cannot_be_cancelled(settings, cancel, sessions, media):
    event = started(settings, sessions, media, "Hello there.")
    assert generate(event)["outcome"] == "SUCCESS"
    status, body = cancel(event["session_id"])
    assert status == 409 and body["state"] == "SUCCESS" and "already ended" in body["error"]
    assert sessions.get(event["session_id"]).state is State.SUCCESS


def test_cancelling_twice_answers_409_naming_revoked(settings, cancel, sessions, media):
    event = started(settings, sessions, media, "Hello there.")
    assert cancel(event["session_id"])[0] == 202
    status, body = cancel(event["session_id"])
    assert status == 409 and body == {
        "error": "the task has already ended: REVOKED",
        "state": "REVOKED",
        "task_id": event["session_id"],
    }


@pytest.mark.parametrize("task_id", ["0123456789abcdef0123456789abcdef", "not-an-id", "x" * 100])
def test_an_unknown_or_malformed_id_is_404(cancel, task_id):
    status, body = cancel(task_id)
    assert status == 404 and body["field"] == "task_id"


def test_the_status_of_a_cancelled_session(settings, cancel, sessions, media, lambda_context):
    event = started(settings, sessions, media, "Hello there.")
    cancel(event["session_id"])
    request = json.loads((EVENTS / "status.json").read_text())
    request["rawPath"] = request["requestContext"]["http"]["path"] = f"/audiostream/task-status/{event['session_id']}/"
    request["pathParameters"] = {"task_id": event["session_id"]}
    body = json.loads(load_handler("status")(request, lambda_context)["body"])
    assert body["state"] == "REVOKED" and body["status"] == "Task was revoked"
    assert body["segments"] == 0 and "result" not in body and "error" not in body
