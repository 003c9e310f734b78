"""The content cache: the same words with the same settings are generated once. A second identical
start is SUCCESS at once and plays the first's stream; one that comes while the first is generating
joins it; anything that changes the sound misses; expired media and failed sources are never served."""

from __future__ import annotations

import time

import m3u8
import pytest

from audiostream import aws
from audiostream.api.start import cacheable_key, start_answer, start_session
from audiostream.api.start_request import StartRequest
from audiostream.api.status import describe_status
from audiostream.config import get_settings
from audiostream.generation.invocation import generate
from audiostream.store.content_cache import following
from audiostream.store.sessions import State

from support.concurrency import at_once
from support.paths import read_text
from support.sessions import RecordingInvoker, stored

TEXT = "The lighthouse keeper climbed the stairs. He lit the lamp."


def request(text: str = TEXT, engine: str = "espeak", voice: str | None = None, **fields) -> StartRequest:
    return StartRequest(text=text, text_given=True, lang="en", engine=engine, voice=voice, **fields)


@pytest.fixture
def invoker():
    return RecordingInvoker()


def start(req: StartRequest, sessions, media, invoker):
    return start_session(req, get_settings(), sessions, media, invoker)


def status(sessions, media, session_id: str) -> dict:
    """As the status function answers it (a session served while its source generates follows it)."""
    session = sessions.get(session_id)
    if session.media_of and not session.state.ended:
        session = following(session, sessions.get(session.media_of))
    return describe_status(session, media)


def test_the_second_identical_start_is_success_at_once_and_plays_the_first_stream(settings, sessions, media, invoker):
    first = start(request(), sessions, media, invoker)
    (event,) = invoker.events
    assert generate(event)["outcome"] == "SUCCESS"

    began = time.monotonic()
    second = start(request(), sessions, media, invoker)
    took = time.monotonic() - began
    assert len(invoker.events) == 1  # no generate invocation, so no TTS and no encoding
    answer = start_answer(second, settings)
    assert answer["cached"] is True and answer["session_id"] != first.session_id
    assert answer["playlist"] == first.playlist
    assert answer["master"] == f"/media/hls/{first.session_id}/master.m3u8"
    body = status(sessions, media, second.session_id)
    assert body["state"] == "SUCCESS" and body["cached"] is True and body["progress"] == 100
    assert body["result"]["playlist"] == first.playlist
    assert body["download"] == f"/media/hls/{first.session_id}/audio.m4a"
    assert body["transcript"] == f"/media/hls/{first.session_id}/transcript.json"
    assert body["duration"] == sessions.get(first.session_id).duration > 0
    playlist = m3u8.loads(stored(settings, first.session_id, "audio.m3u8")["Body"].read().decode())
    assert playlist.is_endlist and len(playlist.segments) == body["segments"]
    assert took < 1.0
    # The cached session ends with its media: its item expires when the source's does.
    assert sessions.get(second.session_id).expires_at == sessions.get(first.session_id).expires_at
    assert status(sessions, media, first.session_id)["cached"] is False


def test_two_identical_starts_at_the_same_moment_make_one_generation(settings, sessions, media, invoker):
    sessions_started = at_once(4, lambda _: start(request(read_text("three_paragraphs.txt")), sessions, media, invoker))
    assert not [outcome for outcome in sessions_started if isinstance(outcome, Exception)]
    (event,) = invoker.events  # one generation for the four
    source = event["session_id"]
    joined = [session for session in sessions_started if session.session_id != source]
    assert len(joined) == 3 and all(session.media_of == source for session in joined)
    # While the source generates, each joined session follows it; all end with it.
    assert {status(sessions, media, session.session_id)["state"] for session in joined} == {"PENDING"}
    assert generate(event)["outcome"] == "SUCCESS"
    for session in joined:
        body = status(sessions, media, session.session_id)
        assert (
            body["state"] == "SUCCESS"
            and body["cached"] is True
            and body["playlist"] == f"/media/hls/{source}/audio.m3u8"
        )
    segments = aws.s3().list_objects_v2(Bucket=settings.storage.media_bucket, Prefix="media/hls/")["Contents"]
    assert {item["Key"].split("/")[2] for item in segments} == {source}  # one set of segments


@pytest.mark.parametrize(
    "changed",
    [
        {"text": TEXT + " Then he slept."},
        {"voice": "f3"},
        {"engine": "hibari"},
        {"text": TEXT.lower()},  # case can change how a word is said
    ],
    ids=["text", "voice", "engine", "case"],
)
def test_changing_one_field_of_the_key_misses(settings, sessions, media, invoker, changed):
    start(request(), sessions, media, invoker)
    assert generate(invoker.events[0])["outcome"] == "SUCCESS"
    start(request(**changed), sessions, media, invoker)
    assert len(invoker.events) == 2


def test_a_setting_that_changes_the_sound_misses(sessions, media, invoker, monkeypatch):
    start(request(), sessions, media, invoker)
    monkeypatch.setenv("AAC_BITRATE", "96k")
    get_settings.cache_clear()
    start(request(), sessions, media, invoker)
    assert len(invoker.events) == 2


def test_whitespace_and_unicode_forms_do_not_make_another_text(sessions, media, invoker):
    start(request("Café  au lait.\n"), sessions, media, invoker)
    start(request(" Cafe\u0301 au lait. "), sessions, media, invoker)  # NFD é, spaces around
    assert len(invoker.events) == 1


def test_cache_false_forces_a_new_generation(sessions, media, invoker):
    start(request(), sessions, media, invoker)
    fresh = start(request(cache=False), sessions, media, invoker)
    assert len(invoker.events) == 2 and fresh.media_of is None


def test_expired_media_and_failed_sources_are_never_served(sessions, media, invoker):
    first = start(request(), sessions, media, invoker)
    # The source's item (and so its media, which the lifecycle rule deletes no earlier) expires soon.
    aws.dynamodb().update_item(
        TableName=sessions.table,
        Key={"session_id": {"S": first.session_id}},
        UpdateExpression="SET expires_at = :soon",
        ExpressionAttributeValues={":soon": {"N": str(int(time.time()) + 30)}},
    )
    second = start(request(), sessions, media, invoker)
    assert len(invoker.events) == 2 and second.media_of is None  # generated anew, and now the source
    sessions.transition(second.session_id, State.FAILURE)
    third = start(request(), sessions, media, invoker)
    assert len(invoker.events) == 3 and third.media_of is None
    assert start(request(), sessions, media, invoker).media_of == third.session_id


def test_a_prompt_a_model_expands_is_cached_only_when_the_request_says_so(monkeypatch):
    monkeypatch.setenv("OPENAI_MODEL", "local-story-model")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-key")
    get_settings.cache_clear()
    settings = get_settings()
    prompt = StartRequest(text="Tell me a story.", text_given=False, lang="en", engine="espeak", voice=None)
    assert cacheable_key(prompt, settings) is None  # the model's answer is not the same twice
    explicit = StartRequest(
        text="Tell me a story.", text_given=False, lang="en", engine="espeak", voice=None, cache=True
    )
    assert cacheable_key(explicit, settings) is not None
    assert cacheable_key(request(), settings) is not None  # text is spoken verbatim: always cacheable
    # Another model writes other words: another key.
    monkeypatch.setenv("OPENAI_MODEL", "another-model")
    get_settings.cache_clear()
    assert cacheable_key(explicit, get_settings()) != cacheable_key(explicit, settings)
    assert cacheable_key(request(), get_settings()) == cacheable_key(request(), settings)
