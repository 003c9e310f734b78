"""A session's error is public (anyone with the id reads it): it says what failed in words a user
understands, and the details (addresses, providers' messages, ARNs) are only in the log, under the
session id."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest

from audiostream.api.start import start_session
from audiostream.api.start_request import StartRequest
from audiostream.api.status import describe_status
from audiostream.config import get_settings
from audiostream.generation.invocation import generate
from audiostream.generation.recovery import end_failed_invocation
from audiostream.observability import logger
from audiostream.store.sessions import Session, State

from support.fake_openai import FakeOpenAi
from support.faults import fail_requests
from support.sessions import RecordingInvoker, started

ARN = "arn:aws:sts::123456789012:assumed-role/audiostream-generate-role/audiostream-generate"
DETAILS = re.compile(r"arn:|https?://|127\.0\.0\.1|localhost|overloaded|not authorized|Traceback|/tmp/")


@pytest.fixture
def log():
    """What the service logs during the test, formatted as CloudWatch gets it (JSON lines)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logging.getLogger(logger.name).addHandler(handler)
    yield stream
    logging.getLogger(logger.name).removeHandler(handler)


def logged(log, session_id: str) -> str:
    """The log lines that carry the session's id, as one text."""
    lines = [line for line in log.getvalue().splitlines() if json.loads(line).get("session_id") == session_id]
    assert lines, "nothing was logged under the session id"
    return "\n".join(lines)


def assert_public(error: str) -> None:
    assert error and not DETAILS.search(error), error


@pytest.fixture
def prompt_session(settings, sessions, media, monkeypatch):
    """A session whose prompt goes to a language model at the address given; answers generate's event."""

    def make(base_url: str) -> dict:
        monkeypatch.setenv("OPENAI_MODEL", "local-story-model")
        monkeypatch.setenv("OPENAI_BASE_URL", base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-key")
        monkeypatch.setenv("LLM_TIMEOUT_SECONDS", "2")
        monkeypatch.setenv("LLM_MAX_RETRIES", "0")
        get_settings.cache_clear()
        request = StartRequest(text="Tell me a story.", text_given=False, lang="en", engine="espeak", voice=None)
        invoker = RecordingInvoker()
        start_session(request, get_settings(), sessions, media, invoker)
        return invoker.events[0]

    return make


def test_a_model_that_cannot_be_reached_is_named_without_its_address(prompt_session, sessions, log):
    event = prompt_session("http://127.0.0.1:9/v1")  # the discard port: nothing listens
    assert generate(event)["outcome"] == "FAILURE"
    error = sessions.get(event["session_id"]).error
    assert error == "the language model could not be reached"
    assert "127.0.0.1:9" in logged(log, event["session_id"])


def test_a_model_provider_message_stays_in_the_log(prompt_session, sessions, media, log):
    model = FakeOpenAi("unused")
    model.mode = "http_error"  # answers 503 {"error": {"message": "The model is overloaded."}}
    try:
        event = prompt_session(model.base_url)
        assert generate(event)["outcome"] == "FAILURE"
    finally:
        model.stop()
    session = sessions.get(event["session_id"])
    assert session.error == "the language model answered HTTP 503"
    assert_public(json.dumps(describe_status(session, media)))
    assert "The model is overloaded." in logged(log, event["session_id"])


def test_polly_refusing_with_an_arn_says_only_its_error_code(settings, sessions, media, log):
    body = json.dumps({"message": f"User: {ARN} is not authorized to perform: polly:SynthesizeSpeech"}).encode()
    fail_requests("SynthesizeSpeech", 10_000, 403, body, headers={"x-amzn-ErrorType": "AccessDeniedException"})
    event = started(settings, sessions, media, "Hello there.", engine="polly")
    assert generate(event)["outcome"] == "FAILURE"
    error = sessions.get(event["session_id"]).error
    assert error == "speech synthesis failed on chunk 1 of 1: Polly could not speak the text (AccessDeniedException)"
    assert ARN in logged(log, event["session_id"])


def test_s3_refusing_with_an_arn_says_only_the_request_and_its_code(settings, sessions, media, log):
    body = f"<Error><Code>AccessDenied</Code><Message>User: {ARN} is not authorized</Message></Error>".encode()
    event = started(settings, sessions, media, "Hello there.")
    fail_requests("PutObject", 10_000, 403, body)
    assert generate(event)["outcome"] == "FAILURE"
    session = sessions.get(event["session_id"])
    assert session.error == "a storage request (PutObject) failed: AccessDenied"
    assert_public(json.dumps(describe_status(session, media)))
    assert ARN in logged(log, event["session_id"])


def test_a_crashed_invocation_is_reported_by_its_kind_not_its_message(settings, sessions, moto, log):
    session_id = "b" * 32
    sessions.create(Session(session_id=session_id, lang="en", engine="espeak", playlist="/p"))
    record = {
        "requestContext": {"condition": "RetriesExhausted", "approximateInvokeCount": 3},
        "requestPayload": {"session_id": session_id, "text": "Hello."},
        "responsePayload": {"errorType": "Runtime.ExitError", "errorMessage": f"RequestId: 1 Error: {ARN} exited"},
    }
    assert end_failed_invocation(record) == "ended"
    session = sessions.get(session_id)
    assert session.state is State.FAILURE
    assert session.error == "generation stopped unexpectedly: Runtime.ExitError"
    assert ARN in logged(log, session_id)
