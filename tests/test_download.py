"""The file to keep: a session that succeeds stores audio.m4a, its stream remuxed once into one
progressive MP4 (AAC, moov before mdat, the stream's duration), served as an attachment."""

from __future__ import annotations

from audiostream import aws
from audiostream.api.status import describe_status
from audiostream.config import get_settings
from audiostream.generation.invocation import generate
from audiostream.media.fmp4 import boxes

from support.audio import decoded_duration, probe
from support.paths import read_text
from support.sessions import published_audio, started, stored


def test_a_successful_session_stores_its_stream_as_one_progressive_file(settings, sessions, media, tmp_path):
    event = started(settings, sessions, media, read_text("three_paragraphs.txt"))
    session_id = event["session_id"]
    assert generate(event)["outcome"] == "SUCCESS"

    kept = stored(settings, session_id, "audio.m4a")
    assert kept["ContentType"] == "audio/mp4"
    assert kept["ContentDisposition"] == f'attachment; filename="audiostream-{session_id[:8]}.m4a"'
    body = kept["Body"].read()
    order = [kind for kind, _ in boxes(body)]
    assert order[0] == "ftyp" and order.index("moov") < order.index("mdat")
    assert "moof" not in order  # progressive: one index up front, not fragments

    path = tmp_path / "audio.m4a"
    path.write_bytes(body)
    facts = probe(path)
    assert (facts["codec"], facts["channels"], facts["sample_rate"]) == ("aac", 1, settings.speech.audio_sample_rate)
    _, stream = published_audio(settings, session_id)
    assert abs(decoded_duration(path) - stream["decoded_duration"]) < 0.05
    assert abs(facts["duration"] - stream["duration"]) < 0.05

    status = describe_status(sessions.get(session_id), media)
    assert status["download"] == status["result"]["download"] == f"/media/hls/{session_id}/audio.m4a"


def test_a_failed_session_has_no_file_to_keep(sessions, media, monkeypatch):
    monkeypatch.setenv("MAX_AUDIO_SECONDS", "3")  # the audio budget ends it as FAILURE
    get_settings.cache_clear()
    settings = get_settings()
    event = started(settings, sessions, media, read_text("three_paragraphs.txt"))
    assert generate(event)["outcome"] == "FAILURE"
    status = describe_status(sessions.get(event["session_id"]), media)
    assert "download" not in status
    listing = aws.s3().list_objects_v2(Bucket=settings.storage.media_bucket, Prefix=f"media/hls/{event['session_id']}/")
    assert "audio.m4a" not in {item["Key"].rsplit("/", 1)[1] for item in listing["Contents"]}
