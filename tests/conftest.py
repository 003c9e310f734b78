"""Shared fixtures: moto in-process for unit tests, the real local stack over HTTP for end-to-end tests."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from moto import mock_aws

from audiostream import aws
from audiostream.config import get_settings
from audiostream.sessions import SessionStore
from audiostream.storage import MediaStore
from devstack.resources import ensure_resources
from devstack.storage_server import start_storage_server, stop_storage_server

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"

TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "SESSIONS_TABLE": "test-sessions",
    "MEDIA_BUCKET": "test-media",
    "TTS_ENGINE": "espeak",
    "GENERATE_INVOKER": "local",
}


def read_text(name: str) -> str:
    return (DATA / name).read_text()


def _is_outside_setting(name: str) -> bool:
    """Settings a developer's shell may carry that would change what the tests see."""
    return name.startswith(("AWS_", "OPENAI_", "LLM_", "TTS_", "POLLY_", "GTTS_"))


@pytest.fixture
def settings(monkeypatch):
    for name in [name for name in os.environ if _is_outside_setting(name)]:
        monkeypatch.delenv(name)
    for name, value in TEST_ENV.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    aws.reset_clients()
    yield get_settings()
    get_settings.cache_clear()
    aws.reset_clients()


@pytest.fixture
def moto(settings):
    """In-process moto with the table and bucket the local stack creates."""
    with mock_aws():
        ensure_resources(settings)
        yield


@pytest.fixture
def sessions(settings, moto) -> SessionStore:
    return SessionStore.from_settings(settings)


@pytest.fixture
def media(settings, moto) -> MediaStore:
    return MediaStore.from_settings(settings)


class LocalStack:
    def __init__(self, url: str, process: subprocess.Popen, log: Path):
        self.url = url.rstrip("/")
        self.process = process
        self.log = log


def start_local_stack(log: Path, **env_changes) -> LocalStack:
    """``python -m devstack`` as ``make run`` starts it, on a free port."""
    env = {key: value for key, value in os.environ.items() if not _is_outside_setting(key)}
    env.update(PORT="0", HOST="127.0.0.1", LOG_LEVEL="WARNING", PYTHONPATH=f"{REPO / 'layers' / 'core'}:{REPO}")
    env["LOCAL_RATE_LIMIT_PER_MINUTE"] = "0"  # the tests start many sessions from one address
    env.update(env_changes)
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "devstack"], env=env, stdout=output, stderr=subprocess.STDOUT, cwd=REPO
        )
    deadline = time.monotonic() + 60
    while True:
        found = re.search(r"ready at (http://\S+)", log.read_text())
        if found:
            return LocalStack(found.group(1), process, log)
        if process.poll() is not None or time.monotonic() > deadline:
            stop_local_stack(LocalStack("", process, log))
            pytest.fail(f"the local stack did not start:\n{log.read_text()}")
        time.sleep(0.05)


def stop_local_stack(stack: LocalStack) -> None:
    stack.process.terminate()
    try:
        stack.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        stack.process.kill()


def fresh_page(folder: Path) -> Path:
    """The page as `make web` builds it, from the sources as they are now (web/dist may be stale)."""
    for source in (REPO / "web").glob("*.*"):
        shutil.copy(source, folder)
    shutil.copy(REPO / "node_modules" / "hls.js" / "dist" / "hls.min.js", folder)
    return folder


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory):
    """The local stack with its own embedded moto server."""
    page = fresh_page(tmp_path_factory.mktemp("web"))
    stack = start_local_stack(tmp_path_factory.mktemp("local-stack") / "stack.log", WEB_DIR=str(page))
    yield stack
    stop_local_stack(stack)


@pytest.fixture
def lambda_context():
    from devstack.lambda_runtime import LocalLambdaContext

    return LocalLambdaContext(function_name="audiostream-test")


@contextmanager
def moto_server_process():
    """moto's server in a process of its own (its settings and state cannot leak into other tests),
    started the way the local stack starts it."""
    process, url = start_storage_server("127.0.0.1")
    try:
        yield url
    finally:
        stop_storage_server(process)


@pytest.fixture
def google(settings, monkeypatch):
    """A loopback server speaking gTTS's protocol, with the gtts engine pointed at it."""
    from fake_gtts import FakeGoogleTts

    server = FakeGoogleTts()
    monkeypatch.setenv("GTTS_URL", server.endpoint)
    monkeypatch.setenv("TTS_TIMEOUT_SECONDS", "2")
    monkeypatch.setenv("GTTS_BACKOFF_SECONDS", "0.05")
    get_settings.cache_clear()
    yield server
    server.stop()
