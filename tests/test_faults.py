"""Faults injected one at a time: each must end in a clear state, with the playlist closed and naming
only segments that exist, and nothing left PENDING or PROGRESS."""

from __future__ import annotations

import json
import threading
import time

import psutil
import pytest

from audiostream import aws
from audiostream.config import get_settings
from audiostream.generation.invocation import generate
from audiostream.store.sessions import State
from devstack.functions import load_handler
from devstack.lambda_runtime import LocalLambdaContext

from support.audio import espeak_alone_duration
from support.engines import EspeakBacked
from support.faults import fail_requests, lose_answers
from support.paths import REPO, read_text
from support.sessions import playlist_of, published_audio, started


class SlowEngine(EspeakBacked):
    """espeak-ng that takes ``delay`` seconds more for every chunk, as a remote engine may."""

    def __init__(self, settings, delay: float):
        super().__init__(settings, "slow")
        self.delay = delay
        self.spoken: list[str] = []

    def synthesize(self, text, lang, voice):
        time.sleep(self.delay)
        self.spoken.append(text)
        return self.inner.synthesize(text, lang, voice)


def test_generate_stops_before_the_functions_time_limit_and_says_why(
    settings, sessions, media, monkeypatch, offer_engine
):
    monkeypatch.setenv("FINISH_MARGIN_SECONDS", "2")
    get_settings.cache_clear()
    engine = SlowEngine(get_settings(), delay=0.4)
    offer_engine("slow", lambda _settings: engine)
    event = started(get_settings(), sessions, media, read_text("three_paragraphs.txt") * 3, engine="slow")
    session_id = event["session_id"]

    generate = load_handler("generate")  # its cold start (a model loads) is not the invocation's time
    began = time.monotonic()
    answer = generate(event, LocalLambdaContext(timeout_seconds=4))
    took = time.monotonic() - began

    assert answer["outcome"] == "FAILURE"
    assert took < 4, "it must end before the invocation's time limit"
    session = sessions.get(session_id)
    assert session.state is State.FAILURE
    assert "before the function's time limit" in session.error
    assert 0 < session.chunk_count < session.chunks_total
    playlist, audio = published_audio(get_settings(), session_id)
    assert playlist.is_endlist
    assert audio["decoded_duration"] == pytest.approx(espeak_alone_duration(" ".join(engine.spoken)), rel=0.05)


def test_a_running_session_writes_a_heartbeat_while_one_chunk_takes_long(
    settings, sessions, media, monkeypatch, offer_engine
):
    monkeypatch.setenv("HEARTBEAT_SECONDS", "0.3")
    get_settings.cache_clear()
    offer_engine("slow", lambda _settings: SlowEngine(_settings, delay=2.0))
    event = started(get_settings(), sessions, media, "One long pause before this sentence.", engine="slow")
    session_id = event["session_id"]
    seen = []
    watcher = threading.Thread(
        target=lambda: [seen.append(sessions.get(session_id).updated_at) or time.sleep(0.25) for _ in range(8)]
    )
    watcher.start()
    assert load_handler("generate")(event, LocalLambdaContext())["outcome"] == "SUCCESS"
    watcher.join()
    # While the engine was busy with its one chunk, the item kept being touched.
    assert len(set(seen[1:7])) >= 3, seen


def status_of(task_id, lambda_context):
    data = json.loads((REPO / "events" / "status.json").read_text())
    data["rawPath"] = data["requestContext"]["http"]["path"] = f"/audiostream/task-status/{task_id}/"
    data["pathParameters"] = {"task_id": task_id}
    return json.loads(load_handler("status")(data, lambda_context)["body"])


def backdate(settings, session_id: str, attribute: str, seconds: float) -> None:
    """Set a session's timestamp ``seconds`` into the past, as if that much time had gone by."""
    aws.dynamodb().update_item(
        TableName=settings.storage.sessions_table,
        Key={"session_id": {"S": session_id}},
        UpdateExpression="SET #at = :then",
        ExpressionAttributeNames={"#at": attribute},
        ExpressionAttributeValues={":then": {"N": str(time.time() - seconds)}},
    )


def test_status_reports_a_session_that_died_without_a_word_as_stalled(settings, sessions, media, lambda_context):
    event = started(settings, sessions, media, "Hello.")
    session_id = event["session_id"]
    sessions.claim(session_id)
    assert status_of(session_id, lambda_context)["state"] == "PROGRESS"
    # Its invocation died: no heartbeat since, for longer than STALL_SECONDS (120 s by default).
    backdate(settings, session_id, "updated_at", 500)
    answer = status_of(session_id, lambda_context)
    assert answer["state"] == "FAILURE"
    assert answer["error"].startswith("stalled: the generator has given no sign of life for 50")
    assert answer["status"].startswith("Task failed: stalled")


def test_status_reports_a_session_that_never_started_as_stalled(settings, sessions, media, lambda_context):
    event = started(settings, sessions, media, "Hello.")
    session_id = event["session_id"]
    assert status_of(session_id, lambda_context)["state"] == "PENDING"
    backdate(settings, session_id, "created_at", 3600)
    answer = status_of(session_id, lambda_context)
    assert answer["state"] == "FAILURE" and "did not start within 1800 s" in answer["error"]


# ------------------------------------------------------------------ TTS


def test_a_tts_that_hangs_on_a_middle_chunk_is_cut_off_by_its_timeout(settings, sessions, media, monkeypatch, tmp_path):
    """An espeak-ng that hangs on one chunk, as a wedged process would; the rest is the real one."""
    hanging = tmp_path / "espeak-ng"
    hanging.write_text(
        '#!/bin/sh\ninput=$(cat)\ncase "$input" in *hundred*) sleep 30;; esac\n'
        'printf "%s" "$input" | exec espeak-ng "$@"\n'
    )
    hanging.chmod(0o755)
    monkeypatch.setenv("ESPEAK_PATH", str(hanging))
    monkeypatch.setenv("TTS_TIMEOUT_SECONDS", "1")
    get_settings.cache_clear()
    event = started(get_settings(), sessions, media, read_text("three_paragraphs.txt"))
    session_id = event["session_id"]
    began = time.monotonic()
    assert generate(event)["outcome"] == "FAILURE"
    assert time.monotonic() - began < 10
    session = sessions.get(session_id)
    assert session.error.startswith("speech synthesis failed on chunk 2 of ")
    assert session.error.endswith("espeak-ng took longer than 1 s")
    playlist, audio = published_audio(get_settings(), session_id)
    assert playlist.is_endlist and audio["decoded_duration"] > 1


def test_gtts_answering_429_is_retried_with_backoff(google, sessions, media):
    google.fail_with, google.failures_left = 429, 2
    event = started(get_settings(), sessions, media, "Hello there.", engine="gtts")
    assert generate(event)["outcome"] == "SUCCESS"
    assert len(google.requests) == 3


def test_gtts_answering_429_for_good_ends_in_failure_after_the_retries(google, sessions, media):
    google.fail_with = 429
    event = started(get_settings(), sessions, media, "Hello there.", engine="gtts")
    session_id = event["session_id"]
    assert generate(event)["outcome"] == "FAILURE"
    assert len(google.requests) == 4  # 1 + GTTS_RETRIES (3)
    error = sessions.get(session_id).error
    assert "Google's speech service answered HTTP 429 after 4 tries" in error
    assert playlist_of(get_settings(), session_id).is_endlist


# ------------------------------------------------------------------ the encoder


def test_ffmpeg_dying_mid_stream_ends_in_failure_naming_only_uploaded_segments(settings, sessions, media, offer_engine):
    offer_engine("slow", lambda _settings: SlowEngine(_settings, delay=0.3))
    event = started(settings, sessions, media, read_text("three_paragraphs.txt") * 2, engine="slow")
    session_id = event["session_id"]

    def kill_ffmpeg_after_the_first_segment():
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if playlist_of(settings, session_id).segments:
                for child in psutil.Process().children(recursive=True):
                    if child.name() == "ffmpeg":
                        child.kill()
                        return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_ffmpeg_after_the_first_segment)
    killer.start()
    assert generate(event)["outcome"] == "FAILURE"
    killer.join()
    session = sessions.get(session_id)
    assert session.error.startswith("ffmpeg stopped mid-stream") or session.error.startswith("ffmpeg failed")
    playlist, _audio = published_audio(settings, session_id)  # every named segment exists
    assert playlist.is_endlist and len(playlist.segments) == session.segments >= 1


# ------------------------------------------------------------------ storage


S3_INTERNAL_ERROR = b"<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>"
DYNAMODB_THROTTLED = json.dumps(
    {
        "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
        "message": "The level of configured provisioned throughput for the table was exceeded.",
    }
).encode()


def test_an_s3_write_failing_once_is_retried_and_the_stream_is_intact(settings, sessions, media):
    event = started(settings, sessions, media, read_text("three_paragraphs.txt"))
    session_id = event["session_id"]
    failures = fail_requests("PutObject", times=1, status=500, body=S3_INTERNAL_ERROR)
    assert generate(event)["outcome"] == "SUCCESS"
    assert failures["left"] == 0
    _playlist, audio = published_audio(settings, session_id)
    assert audio["decoded_duration"] == pytest.approx(
        espeak_alone_duration(read_text("three_paragraphs.txt")), rel=0.05
    )


def test_s3_failing_for_good_ends_in_failure(settings, sessions, media):
    event = started(settings, sessions, media, read_text("three_paragraphs.txt"))
    session_id = event["session_id"]
    fail_requests("PutObject", times=10_000, status=500, body=S3_INTERNAL_ERROR)
    assert generate(event)["outcome"] == "FAILURE"
    session = sessions.get(session_id)
    assert session.state is State.FAILURE
    assert session.error == "a storage request (PutObject) failed: InternalError"


def test_dynamodb_throttling_is_retried_and_the_session_succeeds(settings, sessions, media):
    event = started(settings, sessions, media, read_text("three_paragraphs.txt"))
    session_id = event["session_id"]
    failures = fail_requests(
        "UpdateItem", times=2, status=400, body=DYNAMODB_THROTTLED,
        headers={"x-amzn-ErrorType": "ProvisionedThroughputExceededException"},
    )  # fmt: skip
    assert generate(event)["outcome"] == "SUCCESS"
    assert failures["left"] == 0 and failures["sent"] > 2
    assert sessions.get(session_id).state is State.SUCCESS


# ------------------------------------------------------------------ duplicate and late events


def test_an_event_delivered_again_after_the_session_ended_changes_nothing(settings, sessions, media):
    event = started(settings, sessions, media, "Hello there.")
    session_id = event["session_id"]
    assert generate(event)["outcome"] == "SUCCESS"
    before = sessions.get(session_id)
    playlist = media.get_playlist(session_id)
    # An hour later, Lambda delivers the same event once more.
    assert generate(event)["outcome"] == "skipped"
    assert sessions.get(session_id) == before and media.get_playlist(session_id) == playlist


def test_a_claim_applied_but_whose_answer_was_lost_is_not_mistaken_for_a_duplicate(settings, sessions, media):
    """DynamoDB did the claim but its answer was lost: the client's retry must still own the session."""
    event = started(settings, sessions, media, "Hello there.")
    session_id = event["session_id"]
    lost = lose_answers("UpdateItem", times=1)
    assert generate(event)["outcome"] == "SUCCESS"
    assert lost["left"] == 0
    # ...while a real duplicate (another attempt, another claimant) still finds it taken.
    assert sessions.claim(session_id) is None
