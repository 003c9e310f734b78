"""The gtts engine through the real gTTS client, against a loopback server that speaks its protocol."""

import pytest

from audiostream.config import get_settings
from audiostream.generation.invocation import generate
from audiostream.speech.engines import get_engine
from audiostream.speech.engines.base import TtsError
from audiostream.store.sessions import State

from support.audio import espeak_alone_duration
from support.sessions import published_audio, started


def test_gtts_speech_is_decoded_to_pcm_at_its_rate(google):
    engine = get_engine("gtts", get_settings())
    pcm = engine.synthesize("Hello from the other side.", "en", None)
    assert google.requests == [
        {
            "path": "/_/TranslateWebserverUi/data/batchexecute",
            "rpc": "jQ1olc",
            "text": "Hello from the other side.",
            "lang": "en",
        }
    ]
    seconds = len(pcm) / 2 / engine.sample_rate
    # MP3 adds encoder padding: a few tens of milliseconds at most.
    assert seconds == pytest.approx(espeak_alone_duration("Hello from the other side."), abs=0.15)


def test_a_whole_session_with_gtts(google, sessions, media):
    text = "The first sentence is short. The second sentence is a little longer than the first one was."
    event = started(get_settings(), sessions, media, text, engine="gtts")
    session_id = event["session_id"]
    assert generate(event)["outcome"] == "SUCCESS"
    assert [request["text"] for request in google.requests] == [
        "The first sentence is short.",
        "The second sentence is a little longer than the first one was.",
    ]
    playlist, audio = published_audio(get_settings(), session_id)
    assert playlist.is_endlist and audio["codec"] == "aac"
    assert audio["decoded_duration"] == pytest.approx(espeak_alone_duration(text), rel=0.05)


def test_an_http_error_becomes_a_readable_tts_error(google):
    google.fail_with = 503
    with pytest.raises(TtsError, match="Google's speech service answered HTTP 503"):
        get_engine("gtts", get_settings()).synthesize("Hello.", "en", None)


def test_a_server_that_does_not_answer_in_time_fails_after_the_timeout(google, sessions, media):
    google.delay = 3  # the engine's timeout is 2 s
    event = started(get_settings(), sessions, media, "Hello.", engine="gtts")
    session_id = event["session_id"]
    assert generate(event)["outcome"] == "FAILURE"
    session = sessions.get(session_id)
    assert (
        session.state is State.FAILURE
        and "chunk 1 of 1" in session.error
        and "Google's speech service could not be reached" in session.error
    )
