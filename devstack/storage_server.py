"""The dev stack's S3 and DynamoDB: moto's server, applying one request at a time.

moto's own server is threaded and its backends take no locks, so concurrent updates of one item lose
writes and a condition is checked apart from the write it guards. DynamoDB and S3 apply each request
atomically, and the claim, the state machine and the duplicate-delivery handling rely on that: here a
lock around moto's WSGI application makes every request atomic (linearizable), while connections are
still accepted and read by many threads.

It runs as a process of its own (``python -m devstack.storage_server HOST PORT``), as the storage
services are in AWS: its request handling does not compete with the API and the generation threads for
the stack's interpreter lock, and moto's settings (``INITIAL_NO_AUTH_ACTION_COUNT`` turns on IAM
checks) cannot leak into the caller. It dies with its parent.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path


class OneRequestAtATime:
    """WSGI middleware: the wrapped application handles one request at a time, body included."""

    def __init__(self, app: Callable):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        with self.lock:
            answer = self.app(environ, start_response)
            try:
                return [b"".join(answer)]
            finally:
                if hasattr(answer, "close"):
                    answer.close()


def serve(host: str, port: int) -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    server = make_server(
        host,
        port,
        OneRequestAtATime(DomainDispatcherApplication(create_backend_app)),
        threaded=True,
        request_handler=MotoRequestHandler,
    )
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    server.serve_forever()


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def _die_with_parent() -> None:
    # Linux's PR_SET_PDEATHSIG: the kernel ends the child if the stack dies, even by SIGKILL.
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
    except OSError:
        pass


def start_storage_server(
    host: str, port: int = 0, timeout: float = 30.0, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen, str]:
    """Start the server in a child process; answers the process and its endpoint URL. ``env`` adds
    variables for moto (for example ``INITIAL_NO_AUTH_ACTION_COUNT``)."""
    port = port or _free_port(host)
    # The child imports this package, wherever the caller found it.
    root = str(Path(__file__).resolve().parents[1])
    path = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack.storage_server", host, str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": path, **(env or {})},
        preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
    )
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return process, f"http://{host}:{port}"
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"the storage server did not start on {host}:{port}") from None
            time.sleep(0.05)


def stop_storage_server(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]))
