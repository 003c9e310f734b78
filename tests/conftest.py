"""Shared fixtures: the dev stack's storage server for unit tests, the real local stack over HTTP for
end-to-end tests."""

from __future__ import annotations

import os

import pytest
import requests

from audiostream import aws
from audiostream.config import get_settings
from audiostream.speech.engines import ENGINE_FACTORIES
from audiostream.store.media_store import MediaStore
from audiostream.store.sessions import SessionStore
from devstack.lambda_runtime import LocalLambdaContext
from devstack.resources import ensure_resources

from support.environment import TEST_ENV, is_outside_setting
from support.fake_gtts import FakeGoogleTts
from support.stack import fresh_page, start_local_stack, stop_local_stack, storage_server_process


@pytest.fixture
def settings(monkeypatch):
    for name in [name for name in os.environ if is_outside_setting(name)]:
        monkeypatch.delenv(name)
    for name, value in TEST_ENV.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    aws.reset_clients()
    yield get_settings()
    get_settings.cache_clear()
    aws.reset_clients()


@pytest.fixture(scope="session")
def storage_endpoint():
    """The dev stack's storage server, one for the whole run. Not moto in-process: its backends take
    no locks, and the claim, the conditional transitions and the duplicate-delivery tests need each
    request applied atomically, as DynamoDB and S3 apply it, while several threads write one item."""
    with storage_server_process() as url:
        yield url


@pytest.fixture
def moto(settings, storage_endpoint, monkeypatch):
    """Empty S3 and DynamoDB (moto, one request at a time) with the table and bucket the local stack creates."""
    requests.post(f"{storage_endpoint}/moto-api/reset", timeout=10).raise_for_status()
    monkeypatch.setenv("AWS_ENDPOINT_URL", storage_endpoint)
    aws.reset_clients()
    ensure_resources(settings)


@pytest.fixture
def sessions(settings, moto) -> SessionStore:
    return SessionStore.from_settings(settings)


@pytest.fixture
def media(settings, moto) -> MediaStore:
    return MediaStore.from_settings(settings)


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory):
    """The local stack with its own embedded moto server."""
    page = fresh_page(tmp_path_factory.mktemp("web"))
    stack = start_local_stack(tmp_path_factory.mktemp("local-stack") / "stack.log", WEB_DIR=str(page))
    yield stack
    stop_local_stack(stack)


@pytest.fixture
def offer_engine(monkeypatch):
    """``offer_engine(name, factory)``: a test's own engine (a fault-injecting wrapper), offered for the
    length of the test; the registry is as it was afterwards."""

    def offer(name: str, factory) -> None:
        monkeypatch.setitem(ENGINE_FACTORIES, name, factory)

    return offer


@pytest.fixture
def lambda_context():
    return LocalLambdaContext(function_name="audiostream-test")


@pytest.fixture
def google(settings, monkeypatch):
    """A loopback server speaking gTTS's protocol, with the gtts engine pointed at it."""
    server = FakeGoogleTts()
    monkeypatch.setenv("GTTS_URL", server.endpoint)
    monkeypatch.setenv("TTS_TIMEOUT_SECONDS", "2")
    monkeypatch.setenv("GTTS_BACKOFF_SECONDS", "0.05")
    get_settings.cache_clear()
    yield server
    server.stop()


@pytest.fixture
def captions_off(settings, monkeypatch):
    """The settings with CAPTIONS=false (captions are on by default)."""
    monkeypatch.setenv("CAPTIONS", "false")
    get_settings.cache_clear()
    return get_settings()
