"""The polly engine through boto3 against moto: what is sent, and the engine's output through the pipeline."""

from __future__ import annotations

import json

import numpy as np
import pytest

from audiostream import aws
from audiostream.api.status import describe_status
from audiostream.config import get_settings
from audiostream.generation.invocation import generate
from audiostream.speech.captions import AAC_PRIMING_SAMPLES
from audiostream.speech.engines import get_engine
from audiostream.speech.engines.base import TtsError
from audiostream.speech.engines.polly import MAX_REQUEST_CHARS, _voices
from audiostream.store.sessions import State

from support.fake_polly import FakePolly, layout
from support.paths import read_text
from support.published_stream import decoded_pcm, download_stream
from support.sessions import playlist_of, started, stored


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


@pytest.fixture
def fake_polly(moto, monkeypatch):
    """Polly's protocol on a loopback server whose speech is where its speech marks say; S3 and
    DynamoDB stay on moto."""
    server = FakePolly()
    monkeypatch.setenv("AWS_ENDPOINT_URL_POLLY", server.origin)
    monkeypatch.setenv("POLLY_SPEECH_MARKS", "true")
    get_settings.cache_clear()
    aws.reset_clients()
    _voices.cache_clear()
    yield server
    server.stop()
    _voices.cache_clear()
    aws.reset_clients()


SPOKEN = ["Café au lait, s'il vous plaît.", "Then a second sentence follows it!"]


def test_speech_marks_time_each_sentence_and_word_of_the_captions(fake_polly, sessions, media, tmp_path):
    settings = get_settings()
    event = started(settings, sessions, media, " ".join(SPOKEN), engine="polly")
    assert generate(event)["outcome"] == "SUCCESS"
    # Each chunk (the first is short): its speech, then its speech marks, for the same text and voice.
    pairs = list(zip(fake_polly.requests[::2], fake_polly.requests[1::2], strict=True))
    assert [speech["Text"] for speech, _ in pairs] == SPOKEN
    for speech, marks in pairs:
        assert (speech["OutputFormat"], marks["OutputFormat"]) == ("pcm", "json")
        assert marks["SpeechMarkTypes"] == ["sentence", "word"] and marks["Text"] == speech["Text"]
        assert marks["VoiceId"] == speech["VoiceId"] == "Joanna"

    status = describe_status(sessions.get(event["session_id"]), media)
    transcript = json.loads(stored(settings, event["session_id"], "transcript.json")["Body"].read())
    assert status["transcript"].endswith("/transcript.json")
    sentences = transcript["sentences"]
    # The sentences and words as written (Polly's byte offsets read back as characters: "Café").
    assert [sentence["text"] for sentence in sentences] == SPOKEN
    assert [word["text"] for word in sentences[0]["words"]] == ["Café", "au", "lait", "s'il", "vous", "plaît"]
    # Where the server put them: each word's tone starts at its mark, after the AAC priming.
    expected, before = [], AAC_PRIMING_SAMPLES / settings.speech.audio_sample_rate
    for speech, _ in pairs:
        server_marks, length_ms = layout(speech["Text"])
        expected += [before + mark["time"] / 1000 for mark in server_marks if mark["type"] == "word"]
        before += length_ms / 1000
    heard = [word["start"] for sentence in sentences for word in sentence["words"]]
    assert heard == pytest.approx(expected, abs=0.001)
    # ...and in the stream as decoded: every word's tone begins where its mark says, within 20 ms.
    _, path = download_stream(settings, event["session_id"], tmp_path)
    onsets = tone_onsets(decoded_pcm(path, 8000), 8000)
    assert len(onsets) == len(expected), f"{onsets} {expected}"
    assert max(abs(onset - start) for onset, start in zip(onsets, expected, strict=True)) < 0.02


def test_without_speech_marks_polly_is_asked_once_a_piece(fake_polly, monkeypatch, sessions, media):
    monkeypatch.setenv("POLLY_SPEECH_MARKS", "false")
    get_settings.cache_clear()
    settings = get_settings()
    event = started(settings, sessions, media, " ".join(SPOKEN), engine="polly")
    assert generate(event)["outcome"] == "SUCCESS"
    assert [request["OutputFormat"] for request in fake_polly.requests] == ["pcm", "pcm"]  # one a chunk
    sentences = json.loads(stored(settings, event["session_id"], "transcript.json")["Body"].read())["sentences"]
    assert [sentence["text"] for sentence in sentences] == SPOKEN
    assert all(sentence["words"] == [] for sentence in sentences)  # shared by characters, no word times


def tone_onsets(pcm: bytes, rate: int) -> list[float]:
    """Where each tone burst begins: sound after at least 40 ms of quiet (5 ms frames)."""
    samples = np.abs(np.frombuffer(pcm, dtype="<i2").astype(np.float32)) / 32768
    frame = rate // 200
    loud = samples[: samples.size // frame * frame].reshape(-1, frame).max(axis=1) > 0.05
    found, quiet = [], 8
    for index, is_loud in enumerate(loud):
        if is_loud and quiet >= 8:
            found.append(index / 200)
        quiet = 0 if is_loud else quiet + 1
    return found
