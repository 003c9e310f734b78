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
import io
import json
import os
import select
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wsgiref.types import InputStream, StartResponse, WSGIApplication, WSGIEnvironment


class OneRequestAtATime:
    """WSGI middleware: the wrapped application handles one request at a time, from the first look at
    the request to the last byte of its answer.

    The body is read off the socket before the lock is taken, so a slow sender holds up nobody, and the
    application is handed the request whole. The answer is produced in full under the lock: a lazy one
    could otherwise read state that the next request is already changing."""

    def __init__(self, app: WSGIApplication):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        environ["wsgi.input"] = io.BytesIO(_read_body(environ))
        with self.lock:
            answer = self.app(environ, start_response)
            try:
                return [b"".join(answer)]
            finally:
                if hasattr(answer, "close"):
                    answer.close()


class RequestCounter:
    """WSGI middleware: counts the requests it passes on, by what AWS bills them as (DynamoDB: the
    operation; S3: the method and the object's kind, by its name's ending), and answers the counts at
    ``GET /_requests`` (JSON), so that `make bench` can say what a minute of audio costs in requests."""

    PATH = "/_requests"

    def __init__(self, app: WSGIApplication):
        self.app = app
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == self.PATH and environ.get("REQUEST_METHOD") == "GET":
            with self.lock:
                body = json.dumps(dict(self.counts)).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        with self.lock:
            self.counts[_billed_as(environ)] += 1
        return self.app(environ, start_response)


def _billed_as(environ: WSGIEnvironment) -> str:
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return f"dynamodb {target.rsplit('.', 1)[-1]}"
    method = environ.get("REQUEST_METHOD", "?")
    _, _bucket, *key = environ.get("PATH_INFO", "/").split("/", 2)
    if not key or not key[0]:
        return f"s3 {method} bucket"
    suffix = Path(key[0]).suffix or "(none)"
    return f"s3 {method} {suffix}"


def _read_body(environ: WSGIEnvironment) -> bytes:
    stream: InputStream = environ["wsgi.input"]
    if environ.get("wsgi.input_terminated"):  # chunked: werkzeug's stream ends where the body does
        return stream.read()
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return stream.read(length) if length > 0 else b""


def serve(host: str, port: int) -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    class Handler(MotoRequestHandler):
        # Headers and body leave in two writes: with Nagle's algorithm the body would wait for the
        # client's delayed acknowledgement of the headers (up to 40 ms a request).
        disable_nagle_algorithm = True

    server = make_server(
        host,
        port,
        RequestCounter(OneRequestAtATime(DomainDispatcherApplication(create_backend_app))),
        threaded=True,
        request_handler=Handler,
    )
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    # The socket listens: tell the parent its port (the kernel's pick when asked for 0), then nothing more.
    print(server.socket.getsockname()[1], flush=True)
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    server.serve_forever()


def _die_with_parent() -> Callable[[], None] | None:
    """Linux's PR_SET_PDEATHSIG as a ``preexec_fn``: the kernel ends the child when the thread that
    started it ends (in the stack and in pytest, the main thread), even by SIGKILL. libc is looked up
    here, before the fork: between fork and exec the child must take no lock another thread may hold."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL("libc.so.6", use_errno=True).prctl
    except OSError:
        return None
    return lambda: prctl(1, signal.SIGTERM)


def start_storage_server(
    host: str, port: int = 0, timeout: float = 30.0, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """Start the server in a child process; answers the process and its endpoint URL. ``env`` adds
    variables for moto (for example ``INITIAL_NO_AUTH_ACTION_COUNT``)."""
    # The child imports this package, wherever the caller found it.
    root = str(Path(__file__).resolve().parents[1])
    path = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack.storage_server", host, str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": path, **(env or {})},
        preexec_fn=_die_with_parent(),
    )
    # Its first line is the port it listens on: no port picked here that another process could take
    # first, and no polling.
    stdout = process.stdout
    assert stdout is not None  # stdout=PIPE
    with stdout:
        said = stdout.readline() if select.select([stdout], [], [], timeout)[0] else b""
    if not said.strip().isdigit():
        stop_storage_server(process)
        raise RuntimeError(f"the storage server did not start on {host}:{port}")
    return process, f"http://{host}:{int(said)}"


def stop_storage_server(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]))
