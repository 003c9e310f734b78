"""Generation end to end below HTTP: real espeak-ng and ffmpeg, S3 and DynamoDB from the storage server."""

import io
import json
import logging
import threading

import m3u8
import pytest
from botocore.exceptions import ClientError

from audiostream import aws
from audiostream.generation.invocation import generate
from audiostream.generation.session_run import SessionRun
from audiostream.media.hls import PLAYLIST_NAME
from audiostream.speech.chunking import split_into_chunks
from audiostream.speech.engines import get_engine
from audiostream.speech.engines.base import TtsEngine, TtsError
from audiostream.store.media_store import MediaStore
from audiostream.store.sessions import State

from support.audio import espeak_alone_duration
from support.paths import read_text
from support.sessions import playlist_of, published_audio, started, stored


def stored_text(settings, session_id, name) -> str:
    return stored(settings, session_id, name)["Body"].read().decode()


def versions_per_key(settings, session_id) -> dict[str, int]:
    listing = aws.s3().list_object_versions(
        Bucket=settings.storage.media_bucket, Prefix=f"{settings.storage.media_prefix}/{session_id}/"
    )
    counts = {}
    for version in listing.get("Versions", []):
        name = version["Key"].rsplit("/", 1)[1]
        counts[name] = counts.get(name, 0) + 1
    return counts


@pytest.fixture
def versioned_bucket(settings, moto):
    aws.s3().put_bucket_versioning(Bucket=settings.storage.media_bucket, VersioningConfiguration={"Status": "Enabled"})


def test_a_text_becomes_a_complete_aac_hls_stream(settings, sessions, media):
    text = read_text("three_paragraphs.txt")
    event = started(settings, sessions, media, text)
    session_id = event["session_id"]

    assert generate(event) == {"session_id": session_id, "outcome": "SUCCESS"}

    playlist, audio = published_audio(settings, session_id)
    assert playlist.playlist_type == "event" and playlist.is_endlist
    assert playlist.segment_map[0].uri == "init.mp4"
    assert all(round(segment.duration) <= playlist.target_duration for segment in playlist.segments)
    # First sound comes in ffmpeg's first 2 s part; the parts after it are joined up to 8 s.
    assert playlist.target_duration == settings.speech.target_duration == 8
    assert playlist.segments[0].duration == pytest.approx(2.0, abs=0.05)
    for segment in playlist.segments[:-1]:
        parts = round(segment.duration / 2.0)
        assert 1 <= parts <= 4 and segment.duration == pytest.approx(2.0 * parts, abs=0.05 * parts)
    assert any(segment.duration > 7 for segment in playlist.segments)  # espeak is far faster than real time
    assert (audio["codec"], audio["channels"], audio["sample_rate"]) == ("aac", 1, 44100)
    reference = espeak_alone_duration(text)
    assert audio["decoded_duration"] == pytest.approx(reference, rel=0.05)

    session = sessions.get(session_id)
    assert session.state is State.SUCCESS and session.progress == 100
    assert session.chunk_count == session.chunks_total == len(split_into_chunks(text, 80, 300))
    assert session.segments == len(playlist.segments)
    assert session.duration == pytest.approx(sum(s.duration for s in playlist.segments), abs=0.01)


def test_a_repeated_event_does_nothing(settings, sessions, media, versioned_bucket):
    event = started(settings, sessions, media, "One sentence. Then another one, to make two chunks.")
    session_id = event["session_id"]
    assert generate(event)["outcome"] == "SUCCESS"
    first = versions_per_key(settings, session_id)

    assert generate(event)["outcome"] == "skipped"
    assert versions_per_key(settings, session_id) == first
    assert sessions.get(session_id).state is State.SUCCESS
    # Every segment, its captions and the init segment were written exactly once.
    assert all(count == 1 for name, count in first.items() if not name.endswith(".m3u8"))


def test_several_deliveries_at_once_make_one_set_of_segments(settings, sessions, media, versioned_bucket):
    event = started(settings, sessions, media, read_text("three_paragraphs.txt"))
    session_id = event["session_id"]
    deliveries = 4
    outcomes = []
    barrier = threading.Barrier(deliveries)

    def deliver():
        barrier.wait()
        outcomes.append(generate(event)["outcome"])

    threads = [threading.Thread(target=deliver) for _ in range(deliveries)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["SUCCESS"] + ["skipped"] * (deliveries - 1)
    versions = versions_per_key(settings, session_id)
    playlist = playlist_of(settings, session_id)
    segment_names = {segment.uri for segment in playlist.segments}
    caption_names = {segment.uri for segment in m3u8.loads(stored_text(settings, session_id, "subs.m3u8")).segments}
    assert len(caption_names) == len(segment_names)
    written_once = segment_names | caption_names | {"init.mp4", "master.m3u8", "transcript.json", "audio.m4a"}
    assert set(versions) == written_once | {"audio.m3u8", "subs.m3u8"}
    assert all(versions[name] == 1 for name in written_once)
    assert sessions.get(session_id).state is State.SUCCESS


class FailingOnChunk(TtsEngine):
    """espeak-ng, except that the n-th chunk fails as a remote engine might."""

    def __init__(self, settings, failing_call: int):
        self.inner = get_engine("espeak", settings)
        self.name, self.sample_rate = "failing", self.inner.sample_rate
        self.failing_call = failing_call
        self.calls = 0
        self.spoken = []

    def languages(self):
        return self.inner.languages()

    def synthesize(self, text, lang, voice):
        self.calls += 1
        if self.calls == self.failing_call:
            raise TtsError("the engine answered 500 Internal Server Error")
        pcm = self.inner.synthesize(text, lang, voice)
        self.spoken.append(len(pcm) / 2 / self.sample_rate)
        return pcm


def test_a_tts_failure_on_a_middle_chunk_ends_in_failure_with_a_closed_playable_playlist(
    settings, sessions, media, offer_engine
):
    text = read_text("three_paragraphs.txt")
    chunks = split_into_chunks(text, settings.speech.first_chunk_max_chars, settings.speech.chunk_max_chars)
    assert len(chunks) >= 4
    engine = FailingOnChunk(settings, failing_call=3)
    offer_engine("failing", lambda _settings: engine)
    event = started(settings, sessions, media, text, engine="failing")
    session_id = event["session_id"]

    assert generate(event)["outcome"] == "FAILURE"

    session = sessions.get(session_id)
    assert session.state is State.FAILURE
    assert session.error == (
        f"speech synthesis failed on chunk 3 of {len(chunks)}: the engine answered 500 Internal Server Error"
    )
    assert session.chunk_count == 2
    playlist, audio = published_audio(settings, session_id)  # fails if a named segment is missing
    assert playlist.is_endlist
    # What was spoken before the failure stays playable, all of it.
    assert audio["decoded_duration"] == pytest.approx(sum(engine.spoken), rel=0.05)
    assert session.segments == len(playlist.segments) > 0


def test_an_encoder_that_cannot_start_ends_in_failure_and_closes_the_empty_playlist(
    settings, sessions, media, monkeypatch
):
    from audiostream.config import get_settings

    event = started(settings, sessions, media, "Hello.")

    session_id = event["session_id"]
    monkeypatch.setenv("FFMPEG_PATH", "/nonexistent/ffmpeg")
    get_settings.cache_clear()

    assert generate(event)["outcome"] == "FAILURE"
    session = sessions.get(session_id)
    assert session.state is State.FAILURE and "ffmpeg could not be started" in session.error
    playlist = playlist_of(settings, session_id)
    assert playlist.is_endlist and playlist.segments == []


def emitted_metrics(output: str) -> dict[str, float]:
    """The CloudWatch EMF records Powertools printed: metric name -> value."""
    metrics = {}
    for line in output.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            record = json.loads(line)
            for definition in record["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
                value = record[definition["Name"]]
                metrics[definition["Name"]] = value[0] if isinstance(value, list) else value
    return metrics


def test_metrics_report_time_to_first_segment_audio_seconds_and_the_outcome(settings, sessions, media, capfd):
    event = started(settings, sessions, media, read_text("three_paragraphs.txt"))
    session_id = event["session_id"]
    assert generate(event)["outcome"] == "SUCCESS"
    metrics = emitted_metrics(capfd.readouterr().out)
    session = sessions.get(session_id)
    assert 0 < metrics["TimeToFirstSegment"] < 10_000
    assert metrics["AudioSecondsProduced"] == pytest.approx(session.duration, abs=0.01)
    assert metrics["SessionsSucceeded"] == 1 and "SessionsFailed" not in metrics


@pytest.fixture
def log_lines():
    """The JSON lines the Powertools logger writes, through its own formatter."""
    from audiostream.observability import logger

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)


def test_log_lines_of_a_session_carry_its_id(settings, sessions, media, log_lines):
    event = started(settings, sessions, media, "Hello there.")
    session_id = event["session_id"]
    generate(event)
    lines = log_lines()
    messages = {line["message"]: line for line in lines}
    assert messages["session started"]["session_id"] == session_id
    assert messages["session ended"]["session_id"] == session_id
    assert messages["session ended"]["state"] == "SUCCESS"


class RecordingMediaStore(MediaStore):
    """The real store, checking on every playlist write that everything it names is already stored,
    and failing the upload of one chosen object as S3 might."""

    def __init__(self, settings, fail_on: str | None = None):
        super().__init__(settings.storage.media_bucket, settings.storage.media_prefix)
        self.stored: set[str] = set()
        self.playlists: list[m3u8.M3U8] = []
        self.fail_on = fail_on

    def put_media(self, session_id, name, body):
        if name == self.fail_on:
            raise ClientError(
                {"Error": {"Code": "InternalError", "Message": "We encountered an internal error."}}, "PutObject"
            )
        super().put_media(session_id, name, body)
        self.stored.add(name)

    def put_captions(self, session_id, name, text):
        super().put_captions(session_id, name, text)
        self.stored.add(name)

    def put_playlist(self, session_id, text, name=PLAYLIST_NAME):
        playlist = m3u8.loads(text)
        named = {segment.uri for segment in playlist.segments}
        if playlist.segment_map:
            named.add(playlist.segment_map[0].uri)
        assert named <= self.stored, f"the playlist names {sorted(named - self.stored)} before they were uploaded"
        super().put_playlist(session_id, text, name)
        if name == PLAYLIST_NAME:
            self.playlists.append(playlist)


def test_every_playlist_written_names_only_what_was_already_uploaded(settings, sessions, media):
    event = started(settings, sessions, media, read_text("three_paragraphs.txt"))
    session_id = event["session_id"]
    recording = RecordingMediaStore(settings)
    assert SessionRun(sessions.claim(session_id), event["text"], settings, sessions, recording).run() is State.SUCCESS
    counts = [len(playlist.segments) for playlist in recording.playlists]
    assert counts == sorted(counts) and counts[-1] > 5  # the playlist only grows
    assert [playlist.is_endlist for playlist in recording.playlists].count(True) == 1
    assert recording.playlists[-1].is_endlist


def test_a_segment_upload_failure_ends_in_failure_naming_only_uploaded_segments(settings, sessions, media):
    event = started(settings, sessions, media, read_text("three_paragraphs.txt"))
    session_id = event["session_id"]
    recording = RecordingMediaStore(settings, fail_on="audio_003.m4s")
    assert SessionRun(sessions.claim(session_id), event["text"], settings, sessions, recording).run() is State.FAILURE
    session = sessions.get(session_id)
    assert session.error == "a storage request (PutObject) failed: InternalError"
    final = playlist_of(settings, session_id)
    assert final.is_endlist
    assert [segment.uri for segment in final.segments] == ["audio_000.m4s", "audio_001.m4s", "audio_002.m4s"]
    assert session.segments == 3
