"""The dev stack (``python -m devstack``, what ``make run`` starts) and its storage server, for tests."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from devstack.storage_server import start_storage_server, stop_storage_server

from .environment import is_outside_setting
from .paths import REPO


class LocalStack:
    def __init__(self, url: str, process: subprocess.Popen, log: Path):
        self.url = url.rstrip("/")
        self.process = process
        self.log = log


def start_local_stack(log: Path, **env_changes) -> LocalStack:
    """``python -m devstack`` as ``make run`` starts it, on a free port."""
    env = {key: value for key, value in os.environ.items() if not is_outside_setting(key)}
    env.update(PORT="0", HOST="127.0.0.1", LOG_LEVEL="WARNING", PYTHONPATH=f"{REPO / 'layers' / 'core'}:{REPO}")
    # The tests start many sessions from one address, and poll them faster than the page does.
    env.update(LOCAL_RATE_LIMIT_PER_MINUTE="0", LOCAL_STATUS_RATE_LIMIT_PER_MINUTE="0", LOCAL_SESSIONS_PER_CLIENT="0")
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


@contextmanager
def storage_server_process(env: dict[str, str] | None = None) -> Iterator[str]:
    """The dev stack's storage server (moto, one request at a time) in a process of its own, so that
    its settings and state cannot leak into other tests; answers its endpoint URL."""
    process, url = start_storage_server("127.0.0.1", env=env)
    try:
        yield url
    finally:
        stop_storage_server(process)
