"""Prompt expansion through the real openai client, against a loopback server that streams like a model."""

from __future__ import annotations

import json
import time

import m3u8
import pytest

from audiostream import aws
from audiostream.api.start import start_session
from audiostream.api.start_request import StartRequest
from audiostream.api.status import describe_status
from audiostream.config import get_settings
from audiostream.generation.session_run import SessionRun
from audiostream.media.hls import PLAYLIST_NAME
from audiostream.store.media_store import MediaStore
from audiostream.store.sessions import State

from support.audio import espeak_alone_duration
from support.concurrency import join_thread_named
from support.engines import RecordingEngine
from support.fake_openai import FakeOpenAi
from support.paths import REPO, read_text
from support.sessions import RecordingInvoker, playlist_of, published_audio

STORY = read_text("three_paragraphs.txt")
PROMPT = "Tell me a short story about a lighthouse keeper."


@pytest.fixture
def model(settings, monkeypatch):
    server = FakeOpenAi(STORY)
    monkeypatch.setenv("OPENAI_MODEL", "local-story-model")
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-key")
    monkeypatch.setenv("LLM_TIMEOUT_SECONDS", "2")
    monkeypatch.setenv("LLM_MAX_RETRIES", "0")
    get_settings.cache_clear()
    yield server
    server.stop()


class TimedMediaStore(MediaStore):
    """The real store, noting when the first playlist that names a segment was written."""

    def __init__(self, settings):
        super().__init__(settings.storage.media_bucket, settings.storage.media_prefix)
        self.first_segment_listed_at: float | None = None

    def put_playlist(self, session_id, text, name=PLAYLIST_NAME):
        super().put_playlist(session_id, text, name)
        if self.first_segment_listed_at is None and m3u8.loads(text).segments:
            self.first_segment_listed_at = time.time()


def claimed_prompt_session(sessions, media, prompt=PROMPT, text=None):
    """(the claimed session, the words generate was given)"""
    settings = get_settings()
    request = StartRequest(text=text or prompt, text_given=text is not None, lang="en", engine="espeak", voice=None)
    invoker = RecordingInvoker()
    start_session(request, settings, sessions, media, invoker)
    event = invoker.events[0]
    return sessions.claim(event["session_id"]), event["text"]


def test_a_prompt_is_spoken_while_the_model_is_still_writing(model, sessions, media, moto):
    settings = get_settings()
    session, words = claimed_prompt_session(sessions, media)
    timed = TimedMediaStore(settings)
    progress = []
    record = sessions.record_progress
    sessions.record_progress = lambda session_id, update: (
        progress.append(update.progress) if update.progress is not None else None,
        record(session_id, update),
    )[1]

    assert SessionRun(session, words, settings, sessions, timed).run() is State.SUCCESS

    (request,) = model.requests
    assert request["path"] == "/v1/chat/completions" and request["authorization"] == "Bearer sk-test-key"
    assert request["model"] == "local-story-model" and request["stream"] is True
    assert request["max_tokens"] == settings.llm.llm_max_tokens
    system, user = request["messages"]
    assert system["role"] == "system" and "Answer in English." in system["content"]
    assert user == {"role": "user", "content": PROMPT}

    # Streaming, proven: the first segment was listed before the model had finished writing.
    assert timed.first_segment_listed_at < model.finished_at
    (REPO / "test-output").mkdir(exist_ok=True)
    (REPO / "test-output" / "llm-timing.json").write_text(
        json.dumps(
            {
                "first_segment_after_first_sentence_s": round(
                    timed.first_segment_listed_at - model.first_sentence_sent_at, 3
                ),
                "model_wrote_for_s": round(model.finished_at - model.first_sentence_sent_at, 3),
            },
            indent=2,
        )
    )

    playlist, audio = published_audio(settings, session.session_id)
    assert playlist.is_endlist
    assert audio["decoded_duration"] == pytest.approx(espeak_alone_duration(model.sent_text), rel=0.05)
    status = describe_status(sessions.get(session.session_id), media)
    assert status["state"] == "SUCCESS" and status["spoken_as"] == "llm"
    assert status["spoken_text"].split() == model.sent_text.split()
    assert status["chunks_total"] == status["chunk_count"] > 3
    assert progress == sorted(progress) and status["progress"] == 100


@pytest.mark.parametrize(
    "mode, words",
    [
        ("unreachable", "could not be reached"),
        ("http_error", "the language model answered HTTP 503"),
        ("hang", "sent nothing for 2 s"),
        ("drop_mid_stream", "broke mid-answer"),
        ("error_event_mid_stream", "the language model failed mid-answer"),
        ("empty", "gave an empty answer"),
    ],
)
def test_a_failing_model_ends_in_failure_keeping_what_was_spoken(model, sessions, media, monkeypatch, mode, words):
    if mode == "unreachable":
        model.stop()
    else:
        model.mode = mode
    settings = get_settings()
    session, prompt = claimed_prompt_session(sessions, media)

    assert SessionRun(session, prompt, settings, sessions, media).run() is State.FAILURE

    stored = sessions.get(session.session_id)
    assert words in stored.error, stored.error
    if mode in ("drop_mid_stream", "error_event_mid_stream"):
        playlist, audio = published_audio(settings, session.session_id)  # fails if a named segment is missing
        assert playlist.is_endlist
        # The sentences finished before the failure were spoken, and stay playable.
        assert stored.spoken_text and stored.chunk_count >= 1
        assert audio["decoded_duration"] == pytest.approx(espeak_alone_duration(stored.spoken_text), rel=0.1)
    else:
        playlist = playlist_of(settings, session.session_id)
        assert playlist.is_endlist and playlist.segments == [] and stored.chunk_count == 0


def test_without_a_model_a_prompt_is_spoken_as_written_and_the_status_says_so(settings, sessions, media):
    session, words = claimed_prompt_session(sessions, media, prompt="Tell me a story. About a knight.")
    assert SessionRun(session, words, settings, sessions, media).run() is State.SUCCESS
    status = describe_status(sessions.get(session.session_id), media)
    assert status["spoken_as"] == "prompt"
    assert status["spoken_text"] == "Tell me a story. About a knight."
    assert "no language model is configured" in status["status"]


def test_text_is_spoken_verbatim_even_with_a_model_configured(model, sessions, media):
    session, words = claimed_prompt_session(sessions, media, text="Exactly these words.")
    assert SessionRun(session, words, get_settings(), sessions, media).run() is State.SUCCESS
    assert model.requests == []
    assert describe_status(sessions.get(session.session_id), media)["spoken_as"] == "text"


def test_in_aws_the_key_comes_from_the_parameter_store(model, sessions, media, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.setenv("OPENAI_API_KEY_PARAMETER", "/audiostream/openai-api-key")
    get_settings.cache_clear()
    aws.client("ssm").put_parameter(
        Name="/audiostream/openai-api-key", Value="sk-from-ssm", Type="SecureString", Overwrite=True
    )
    model.answer = "A short answer."
    session, words = claimed_prompt_session(sessions, media)
    assert SessionRun(session, words, get_settings(), sessions, media).run() is State.SUCCESS
    assert model.requests[0]["authorization"] == "Bearer sk-from-ssm"


def test_the_answer_is_cut_at_the_character_limit(model, sessions, media, monkeypatch):
    monkeypatch.setenv("LLM_MAX_CHARS", "200")
    get_settings.cache_clear()
    session, words = claimed_prompt_session(sessions, media)
    assert SessionRun(session, words, get_settings(), sessions, media).run() is State.SUCCESS
    spoken = sessions.get(session.session_id).spoken_text
    assert len(spoken) <= 200 and STORY.startswith(spoken[:50])


def test_sentences_that_arrive_while_the_voice_speaks_are_packed_into_one_engine_run(
    model, sessions, media, offer_engine
):
    # "Hi. " x 750 once made 750 engine runs (750 upstream requests with gTTS or Polly).
    model.answer, model.token_delay = "Hi there. " * 60, 0
    settings = get_settings()
    session, prompt = claimed_prompt_session(sessions, media)
    reader = f"llm-{session.session_id[:8]}"
    # The first run lasts until the model has written everything: all the rest is waiting.
    engine = RecordingEngine(settings, name="espeak", before_first=lambda: join_thread_named(reader))
    offer_engine("espeak", lambda _settings: engine)

    assert SessionRun(session, prompt, settings, sessions, media).run() is State.SUCCESS

    assert engine.texts[0] == "Hi there."  # the first chunk alone, as soon as it was written
    assert engine.texts[1:] == ["Hi there. " * 29 + "Hi there.", "Hi there. " * 28 + "Hi there."]
    assert sessions.get(session.session_id).spoken_text == model.answer.strip()
