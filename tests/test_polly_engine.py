"""The polly engine through boto3 against moto: what is sent, and the engine's output through the pipeline."""

from __future__ import annotations

import pytest

from audiostream import aws
from audiostream.engines import get_engine
from audiostream.engines.base import TtsError
from audiostream.engines.polly import MAX_REQUEST_CHARS
from audiostream.generate import generate
from audiostream.sessions import State

from support.paths import read_text
from support.sessions import playlist_of, started


@pytest.fixture
def polly_requests(moto):
    """Every SynthesizeSpeech request boto3 sends, as its parameters."""
    sent = []
    client = aws.client("polly")
    client.meta.events.register("provide-client-params.polly.SynthesizeSpeech", lambda params, **_: sent.append(params))
    return sent


def test_a_text_is_sent_in_pieces_polly_accepts_with_the_right_voice_and_format(settings, polly_requests):
    engine = get_engine("polly", settings)
    text = " ".join([read_text("three_paragraphs.txt").replace("\n", " ")] * 8)
    assert len(text) > 2 * MAX_REQUEST_CHARS

    pcm = engine.synthesize(text, "en", None)

    assert len(polly_requests) == 3
    assert all(len(request["Text"]) <= MAX_REQUEST_CHARS for request in polly_requests)
    assert " ".join(request["Text"] for request in polly_requests).split() == text.split()
    assert {request["OutputFormat"] for request in polly_requests} == {"pcm"}
    assert {request["SampleRate"] for request in polly_requests} == {"16000"}
    assert {request["Engine"] for request in polly_requests} == {"standard"}
    voice = polly_requests[0]["VoiceId"]
    assert voice == engine.default_voice("en")
    assert next(v for v in engine._voice_list() if v["Id"] == voice)["LanguageCode"] == "en-US"
    assert pcm and len(pcm) % 2 == 0


def test_a_chosen_voice_and_language_are_used(settings, polly_requests):
    engine = get_engine("polly", settings)
    engine.synthesize("Bonjour.", "fr", "Mathieu")
    engine.synthesize("Hallo.", "de", None)
    assert [request["VoiceId"] for request in polly_requests] == ["Mathieu", engine.default_voice("de")]
    assert "fr" in engine.languages() and "en-gb" in engine.languages() and "Joanna" in engine.voices()


def test_a_language_polly_does_not_speak_is_refused(settings, moto):
    with pytest.raises(TtsError, match="no standard voice"):
        get_engine("polly", settings).default_voice("tlh")


def test_a_whole_session_with_polly(settings, sessions, media, polly_requests):
    text = "The first sentence is short. The second sentence is a little longer than the first one was."
    event = started(settings, sessions, media, text, engine="polly")
    session_id = event["session_id"]
    assert generate(event)["outcome"] == "SUCCESS"
    assert [request["Text"] for request in polly_requests] == [
        "The first sentence is short.",
        "The second sentence is a little longer than the first one was.",
    ]
    # moto's Polly answers a few bytes of PCM per request: the encoder turns them into a short but
    # complete stream, which is what this can show about the engine's output path.
    session = sessions.get(session_id)
    assert session.state is State.SUCCESS and session.chunk_count == 2
    playlist = playlist_of(settings, session_id)
    assert playlist.is_endlist and len(playlist.segments) == session.segments
