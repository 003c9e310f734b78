"""Sessions whose generate invocation died, or never ran, are ended by the on-failure queue's records."""

import json
from pathlib import Path

import m3u8
import pytest

from audiostream import aws
from audiostream.media.hls import Segment, render_playlist, render_subtitles_playlist
from audiostream.store.sessions import Session, SessionUpdate, State
from devstack.functions import load_handler

EVENT = json.loads((Path(__file__).resolve().parents[1] / "events" / "failed-generation.json").read_text())
SESSION_ID = json.loads(EVENT["Records"][0]["body"])["requestPayload"]["session_id"]


def failure_event(session_id=SESSION_ID, **record_changes) -> dict:
    record = json.loads(EVENT["Records"][0]["body"])
    record["requestPayload"] = {"session_id": session_id}
    record.update(record_changes)
    return {"Records": [{**EVENT["Records"][0], "body": json.dumps(record)}]}


@pytest.fixture
def handler(moto):
    return load_handler("failed_generations")


def died_mid_stream(sessions, media, segments=2) -> None:
    """What a generate invocation that timed out leaves behind: PROGRESS, an open playlist."""
    sessions.create(Session(session_id=SESSION_ID, lang="en", engine="espeak", playlist="/p"))
    sessions.claim(SESSION_ID)
    published = [Segment(f"audio_{i:03d}.m4s", 2.0) for i in range(segments)]
    for segment in published:
        media.put_media(SESSION_ID, segment.name, b"segment")
    media.put_playlist(SESSION_ID, render_playlist(published, 2, ended=False))
    # With captions, the subtitle playlist lags until the next listing: the last caption is not up yet.
    media.put_captions(SESSION_ID, "subs_000.vtt", "WEBVTT\n")
    media.put_playlist(SESSION_ID, render_subtitles_playlist(published[:1], 2, ended=False), "subs.m3u8")


def playlist(media) -> m3u8.M3U8:
    return m3u8.loads(media.get_playlist(SESSION_ID))


def test_a_timed_out_invocation_ends_its_session_with_a_closed_playlist(
    handler, sessions, media, lambda_context, settings
):
    died_mid_stream(sessions, media)
    assert handler(failure_event(), lambda_context) == {"batchItemFailures": []}
    session = sessions.get(SESSION_ID)
    assert session.state is State.FAILURE
    assert session.error.startswith("generation stopped unexpectedly:")
    assert "Task timed out" in session.error and "900" not in session.error  # Lambda's own words are logged
    closed = playlist(media)
    assert closed.is_endlist and [s.uri for s in closed.segments] == ["audio_000.m4s", "audio_001.m4s"]
    assert closed.target_duration == 2
    # The captions' playlist, written after the audio's and so a segment short of it here, closes over
    # what it names: every caption it names was uploaded.
    subtitles = m3u8.loads(media.get_playlist(SESSION_ID, "subs.m3u8"))
    assert subtitles.is_endlist and [s.uri for s in subtitles.segments] == ["subs_000.vtt"]
    assert [s.duration for s in subtitles.segments] == [2.0] and subtitles.target_duration == 2
    assert not subtitles.segment_map


def test_an_event_that_waited_too_long_ends_a_pending_session(handler, sessions, media, lambda_context):
    sessions.create(Session(session_id=SESSION_ID, lang="en", engine="espeak", playlist="/p"))
    media.put_playlist(SESSION_ID, render_playlist([], 2, ended=False))
    event = failure_event(
        requestContext={"condition": "EventAgeExceeded", "approximateInvokeCount": 0}, responsePayload=None
    )
    assert handler(event, lambda_context) == {"batchItemFailures": []}
    session = sessions.get(SESSION_ID)
    assert session.state is State.FAILURE and "did not start in time" in session.error
    assert playlist(media).is_endlist and playlist(media).segments == []


def test_a_session_that_already_ended_is_left_alone(handler, sessions, media, settings, lambda_context):
    died_mid_stream(sessions, media)
    sessions.transition(SESSION_ID, State.SUCCESS, SessionUpdate(progress=100))
    before = media.get_playlist(SESSION_ID)
    assert handler(failure_event(), lambda_context) == {"batchItemFailures": []}
    assert sessions.get(SESSION_ID).state is State.SUCCESS
    assert media.get_playlist(SESSION_ID) == before


def test_a_record_without_a_session_is_dropped_and_one_that_cannot_be_handled_is_retried(
    handler, sessions, media, settings, lambda_context
):
    assert handler(failure_event(session_id="not-a-session"), lambda_context) == {"batchItemFailures": []}
    died_mid_stream(sessions, media)
    aws.dynamodb().delete_table(TableName=settings.storage.sessions_table)  # storage failing under the drain
    answer = handler(failure_event(), lambda_context)
    assert answer == {"batchItemFailures": [{"itemIdentifier": EVENT["Records"][0]["messageId"]}]}


def test_a_cancelled_session_whose_invocation_died_keeps_revoked_with_closed_playlists(
    handler, sessions, media, lambda_context
):
    died_mid_stream(sessions, media)
    sessions.transition(SESSION_ID, State.REVOKED)  # cancelled; generate died before it closed them
    assert handler(failure_event(), lambda_context) == {"batchItemFailures": []}
    assert sessions.get(SESSION_ID).state is State.REVOKED
    closed = playlist(media)
    assert closed.is_endlist and [s.uri for s in closed.segments] == ["audio_000.m4s", "audio_001.m4s"]
    assert m3u8.loads(media.get_playlist(SESSION_ID, "subs.m3u8")).is_endlist
