"""The dev stack (``python -m devstack``, what ``make run`` starts) and its storage server, each started
as a process of its own, for the tests (tests/support/stack.py) and the bench (bench/stack.py).

Nothing here imports pytest: a stack that does not start raises ``StackDidNotStart``, with its log.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .storage_server import start_storage_server, stop_storage_server

REPO = Path(__file__).resolve().parents[1]
# What ``python -m devstack`` prints once it serves, and where its embedded storage is.
_READY = re.compile(r"ready at (http://\S+)")
_STORAGE = re.compile(r"storage: (.*)")
_EMBEDDED_STORAGE = re.compile(r"moto server at (http://\S+)")


class StackDidNotStart(RuntimeError):
    pass


def is_outside_setting(name: str) -> bool:
    """Settings a developer's shell may carry that would change what a stack started here does."""
    return name.startswith(("AWS_", "OPENAI_", "LLM_", "TTS_", "POLLY_", "GTTS_"))


@dataclass
class DevStack:
    url: str  # without the trailing slash
    process: subprocess.Popen[bytes]
    log: Path  # everything the stack printed

    def storage_url(self, timeout: float = 5.0) -> str | None:
        """The endpoint of the storage server the stack embeds, or None when it uses storage that was
        already running (``AWS_ENDPOINT_URL``). The stack names it just after its ready line."""
        deadline = time.monotonic() + timeout
        while True:
            said = _STORAGE.search(self.log.read_text())
            if said or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        embedded = _EMBEDDED_STORAGE.search(said.group(1)) if said else None
        return embedded.group(1) if embedded else None


def start_dev_stack(
    log: Path,
    env_changes: Mapping[str, str] | None = None,
    *,
    outside: Callable[[str], bool] = is_outside_setting,
    timeout: float = 60.0,
) -> DevStack:
    """``python -m devstack`` as ``make run`` starts it, on a free port of 127.0.0.1, its output in
    ``log``: the environment of this process without the settings ``outside`` names, and with
    ``env_changes``. Answers once the stack serves."""
    env = {key: value for key, value in os.environ.items() if not outside(key)}
    env.update(PORT="0", HOST="127.0.0.1", PYTHONPATH=f"{REPO / 'layers' / 'core'}:{REPO}")
    env.update(env_changes or {})
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "devstack"], env=env, stdout=output, stderr=subprocess.STDOUT, cwd=REPO
        )
    deadline = time.monotonic() + timeout
    while True:
        found = _READY.search(log.read_text())
        if found:
            return DevStack(found.group(1).rstrip("/"), process, log)
        if process.poll() is not None or time.monotonic() > deadline:
            stop_dev_stack(DevStack("", process, log))
            raise StackDidNotStart(f"the local stack did not start:\n{log.read_text()}")
        time.sleep(0.05)


def stop_dev_stack(stack: DevStack) -> None:
    stack.process.terminate()
    try:
        stack.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        stack.process.kill()


@contextmanager
def storage_server_process(env: dict[str, str] | None = None) -> Iterator[str]:
    """The dev stack's storage server (moto, one request at a time) in a process of its own, so that
    its settings and state cannot leak into the caller; answers its endpoint URL."""
    process, url = start_storage_server("127.0.0.1", env=env)
    try:
        yield url
    finally:
        stop_storage_server(process)
