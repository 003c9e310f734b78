"""The local origin's defences against a client that costs more than it should: socket deadlines,
bounded connections, body sizes per route, throttles on every API route, sessions per client.

Each test serves a LocalOrigin of its own with uvicorn in this process, with its own settings (small
timeouts), and talks to it over loopback sockets. Nothing here asserts on wall time: a bound (a socket timeout,
a deadline) is only there so that a broken server fails the test instead of hanging it, and is many
times what a working one needs.
"""

from __future__ import annotations

import http.client
import json
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from audiostream.api.invoker import install_invoker
from devstack.functions import load_handler
from devstack.lambda_runtime import LocalInvoker
from devstack.origin import LocalOrigin
from devstack.server import OriginServer
from devstack.settings import DevStackSettings

from support.concurrency import at_once

TASK = "0123456789abcdef0123456789abcdef"
# What a test waits for a working server, at most; far more than it needs, even on a busy machine.
PATIENCE = 30.0


class Calls:
    """A fake Lambda handler that answers 200 (or 202 for start) and counts its calls; with
    ``blocked``, each call waits until ``release()``."""

    def __init__(self, status: int = 200, blocked: bool = False):
        self.status = status
        self.count = 0
        self.changed = threading.Condition()
        self.released = threading.Event()
        if not blocked:
            self.released.set()

    def __call__(self, event: dict, context) -> dict:
        with self.changed:
            self.count += 1
            self.changed.notify_all()
        assert self.released.wait(PATIENCE)
        return {"statusCode": self.status, "headers": {"Content-Type": "application/json"}, "body": '{"ok": true}'}

    def wait_for(self, count: int) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: self.count >= count, PATIENCE), (self.count, count)

    def release(self) -> None:
        self.released.set()


@pytest.fixture
def web_dir(tmp_path) -> Path:
    (tmp_path / "index.html").write_text("<!doctype html><title>page</title>")
    return tmp_path


@contextmanager
def serving(settings, handlers: dict, web_dir: Path, **changes) -> Iterator[OriginServer]:
    """A LocalOrigin on a free loopback port, served by uvicorn in a thread of its own until the block ends."""
    limits = dict(
        local_rate_limit_per_minute=0,
        local_status_rate_limit_per_minute=0,
        local_sessions_per_client=0,
        local_socket_timeout_seconds=PATIENCE,
        local_max_connections=64,
    )
    local = DevStackSettings(host="127.0.0.1", port=0, web_dir=web_dir, **(limits | changes))
    origin = LocalOrigin(local, settings, handlers)
    server = OriginServer(origin, local)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stop()
        thread.join(PATIENCE)
        origin.close()


def address(origin: OriginServer) -> tuple[str, int]:
    return origin.address


def url(origin: OriginServer, path: str) -> str:
    host, port = address(origin)
    return f"http://{host}:{port}{path}"


def connect(origin: OriginServer, client: str = "127.0.0.1") -> socket.socket:
    return socket.create_connection(address(origin), timeout=PATIENCE, source_address=(client, 0))


def closed_by_server(connection: socket.socket) -> bool:
    """Reads (and drops) what the server still sends; True once it has closed its side."""
    try:
        while True:
            data = connection.recv(65536)
            if not data:
                return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def answer_on(connection: socket.socket) -> tuple[http.client.HTTPResponse, bytes]:
    response = http.client.HTTPResponse(connection)
    response.begin()
    return response, response.read()


def get(origin: OriginServer, path: str, client: str = "127.0.0.1") -> tuple[int, dict, dict]:
    host, port = address(origin)
    connection = http.client.HTTPConnection(host, port, timeout=PATIENCE, source_address=(client, 0))
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        return response.status, dict(response.getheaders()), json.loads(body) if body.startswith(b"{") else {}
    finally:
        connection.close()


# ------------------------------------------------------------------ time


def test_a_connection_that_sends_nothing_is_closed_and_its_place_freed(settings, web_dir):
    engines = Calls()
    with serving(
        settings, {"status": engines}, web_dir, local_socket_timeout_seconds=1, local_max_connections=1
    ) as origin:
        with connect(origin) as idle:
            idle.settimeout(3)  # three times the server's timeout
            assert closed_by_server(idle)
        # The one place is free again: the next client is served.
        assert get(origin, "/audiostream/engines/")[0] == 200


def test_a_client_trickling_its_headers_is_dropped_by_the_request_deadline(settings, web_dir):
    engines = Calls()
    with serving(settings, {"status": engines}, web_dir, local_socket_timeout_seconds=1) as origin:
        with connect(origin) as slow:
            slow.sendall(b"GET /audiostream/engines/ HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            # A byte every 0.1 s, each well inside the 1 s timeout: only a deadline for the whole
            # request ends this. 300 bytes would take 30 s.
            for _ in range(300):
                readable, _, _ = select.select([slow], [], [], 0.1)
                if readable:
                    break
                try:
                    slow.send(b"a")
                except (BrokenPipeError, ConnectionResetError):
                    break
            else:
                pytest.fail("the server still waited for the headers after 30 s of trickling")
            slow.settimeout(PATIENCE)
            assert closed_by_server(slow)
    assert engines.count == 0


def test_a_body_shorter_than_its_content_length_ends_in_408_by_the_deadline(settings, web_dir):
    start = Calls(202)
    with serving(settings, {"start": start}, web_dir, local_socket_timeout_seconds=1) as origin:
        with connect(origin) as liar:
            liar.sendall(b"POST /audiostream/start/ HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" + b"{" * 10)
            response, body = answer_on(liar)
            assert response.status == 408 and response.getheader("Content-Type") == "application/json"
            assert json.loads(body)["message"].startswith("Request Timeout")
            assert closed_by_server(liar)
    assert start.count == 0


def test_a_busy_kept_alive_connection_is_closed_once_older_than_the_timeout(settings, web_dir):
    engines = Calls()
    with serving(settings, {"status": engines}, web_dir, local_socket_timeout_seconds=1) as origin:
        host, port = address(origin)
        connection = http.client.HTTPConnection(host, port, timeout=PATIENCE)
        deadline = time.monotonic() + PATIENCE
        try:
            while True:
                connection.request("GET", "/audiostream/engines/")
                response = connection.getresponse()
                response.read()
                assert response.status == 200
                if response.getheader("Connection") == "close":
                    break
                assert time.monotonic() < deadline, "the connection was kept alive past its age"
                time.sleep(0.05)
        finally:
            connection.close()
    assert engines.count >= 2  # the same connection served several requests before it was closed


def test_answers_leave_without_waiting_for_nagles_algorithm(settings, web_dir):
    # An answer leaves in two writes (head, then body): with Nagle's algorithm the body would wait for
    # the client's delayed acknowledgement of the head, up to 40 ms a request on a kept-alive connection.
    with serving(settings, {"status": Calls()}, web_dir) as origin:
        with connect(origin) as client:
            client.sendall(b"GET /audiostream/engines/ HTTP/1.1\r\nHost: x\r\n\r\n")
            assert answer_on(client)[0].status == 200
            (connection,) = origin.server.server_state.connections
            served = connection.transport.get_extra_info("socket")
            assert served.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


# ------------------------------------------------------------------ connections


def test_connections_beyond_the_bound_wait_until_a_place_is_free(settings, web_dir):
    engines = Calls(blocked=True)
    with serving(settings, {"status": engines}, web_dir, local_max_connections=2) as origin:
        request = b"GET /audiostream/engines/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        first, second, third = (connect(origin) for _ in range(3))
        try:
            for connection in (first, second):
                connection.sendall(request)
            engines.wait_for(2)  # both places taken, each by a request held in its handler
            third.sendall(request)
            # Not served while the places are taken (a working server cannot answer here at all).
            readable, _, _ = select.select([third], [], [], 0.5)
            assert not readable and engines.count == 2
            engines.release()
            for connection in (first, second, third):
                response, _ = answer_on(connection)
                assert response.status == 200
            assert engines.count == 3
        finally:
            engines.release()
            for connection in (first, second, third):
                connection.close()


def test_idle_connections_holding_every_place_cannot_keep_a_waiting_client_out(settings, web_dir):
    engines = Calls()
    with serving(
        settings, {"status": engines}, web_dir, local_socket_timeout_seconds=1, local_max_connections=2
    ) as origin:
        idle = [connect(origin) for _ in range(2)]
        try:
            # Queued behind the idle ones; served once the deadline has dropped them.
            assert get(origin, "/audiostream/engines/")[0] == 200
        finally:
            for connection in idle:
                connection.close()


# ------------------------------------------------------------------ bodies


@pytest.mark.parametrize(
    "length, expected",
    [
        (16 * 1024 + 1, {"error": "the request body is 16385 bytes; the limit is 16384", "field": "body"}),
        (10 * 1024 * 1024, {"error": "the request body is 10485760 bytes; the limit is 16384", "field": "body"}),
        (10 * 1024 * 1024 + 1, {"message": "Request Entity Too Large"}),  # API Gateway's own refusal
    ],
)
def test_a_start_body_over_the_limit_is_refused_from_its_content_length_alone(settings, web_dir, length, expected):
    start = Calls(202)
    # A server that waited for the body would wait PATIENCE seconds: longer than the client waits.
    with serving(settings, {"start": start}, web_dir, local_socket_timeout_seconds=2 * PATIENCE) as origin:
        with connect(origin) as client:
            head = f"POST /audiostream/start/ HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n"
            client.sendall(head.encode() + b"{")  # the body never comes
            response, body = answer_on(client)
            assert response.status == 413 and response.getheader("Content-Type") == "application/json"
            assert json.loads(body) == expected
            assert response.getheader("Connection") == "close"
            assert closed_by_server(client)
    assert start.count == 0


def test_a_client_sending_an_oversized_body_gets_the_413_not_a_reset(settings, web_dir):
    start = Calls(202)
    with serving(settings, {"start": start}, web_dir) as origin:
        answer = requests.post(url(origin, "/audiostream/start/"), data=b"x" * (4 * 1024 * 1024), timeout=PATIENCE)
    assert answer.status_code == 413 and answer.json()["field"] == "body"
    assert start.count == 0


def test_a_start_body_within_the_limit_reaches_the_function(settings, web_dir):
    start = Calls(202)
    with serving(settings, {"start": start}, web_dir) as origin:
        answer = requests.post(url(origin, "/audiostream/start/"), data=b"x" * (16 * 1024), timeout=PATIENCE)
    assert answer.status_code == 202 and start.count == 1


@pytest.mark.parametrize("length, expected", [(16 * 1024 + 1, 413), (5, 202)])
def test_a_client_that_asks_first_is_told_to_send_only_a_body_that_is_wanted(settings, web_dir, length, expected):
    start = Calls(202)
    with serving(settings, {"start": start}, web_dir) as origin:
        with connect(origin) as client:
            head = f"POST /audiostream/start/ HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n"
            client.sendall(head.encode() + b"Expect: 100-continue\r\n\r\n")
            first = b""
            while not first.endswith(b"\r\n\r\n"):
                byte = client.recv(1)
                assert byte, f"closed after {first!r}"
                first += byte
            if expected == 202:
                assert first == b"HTTP/1.1 100 Continue\r\n\r\n"  # go on
                client.sendall(b"x" * length)
                response, _ = answer_on(client)
                assert response.status == 202
            else:
                assert first.startswith(b"HTTP/1.1 413 ")  # refused at once: no "100 Continue" first
    assert start.count == (expected == 202)


@pytest.mark.parametrize("path", [f"/audiostream/task-status/{TASK}/", "/audiostream/engines/", "/", "/media/hls/x"])
def test_a_get_with_a_body_is_refused_unread(settings, moto, web_dir, path):
    status = Calls()
    with serving(settings, {"status": status}, web_dir) as origin:
        with connect(origin) as client:
            # The body is a request of its own: read as the next request, it would be smuggled in.
            smuggled = b"GET /audiostream/engines/ HTTP/1.1\r\nHost: x\r\n\r\n"
            head = f"GET {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(smuggled)}\r\n\r\n"
            client.sendall(head.encode() + smuggled)
            response, body = answer_on(client)
            assert response.status == 403 and response.getheader("Content-Type") == "application/json"
            assert json.loads(body)["message"].startswith("Forbidden")
            assert closed_by_server(client)
        assert status.count == 0
        assert get(origin, path)[0] in (200, 404)  # without a body, the same request is served


def test_a_body_on_a_route_that_takes_none_is_never_read_as_a_request(settings, web_dir):
    status = Calls()
    with serving(settings, {"status": status}, web_dir) as origin:
        with connect(origin) as client:
            smuggled = b"GET /audiostream/engines/ HTTP/1.1\r\nHost: x\r\n\r\n"
            head = f"PUT /audiostream/engines/ HTTP/1.1\r\nHost: x\r\nContent-Length: {len(smuggled)}\r\n\r\n"
            client.sendall(head.encode() + smuggled)
            response, body = answer_on(client)
            assert response.status == 404 and json.loads(body)
            assert closed_by_server(client)
    assert status.count == 0


# ------------------------------------------------------------------ throttles


def test_status_and_engines_are_throttled_per_client_with_retry_after(settings, moto, web_dir):
    status = Calls()
    start = Calls(202)
    # 1 a minute: a burst of one, then one a minute; nothing refills within this test.
    with serving(settings, {"status": status, "start": start}, web_dir, local_status_rate_limit_per_minute=1) as origin:
        assert get(origin, f"/audiostream/task-status/{TASK}/")[0] == 200
        code, headers, body = get(origin, f"/audiostream/task-status/{TASK}/")
        assert code == 429 and headers["Content-Type"] == "application/json"
        assert body == {"message": "Too Many Requests"} and 1 <= int(headers["Retry-After"]) <= 60
        assert get(origin, "/audiostream/engines/")[0] == 429  # one limit for both read routes
        assert get(origin, "/audiostream/engines/", client="127.0.0.2")[0] == 200  # another client's own
        # The page and the media are not throttled (CloudFront serves them in AWS), nor is start by this limit.
        assert [get(origin, "/")[0] for _ in range(5)] == [200] * 5
        assert [get(origin, f"/media/hls/{TASK}/audio.m3u8")[0] for _ in range(5)] == [404] * 5
        assert (
            requests.post(url(origin, "/audiostream/start/"), json={"text": "Hi"}, timeout=PATIENCE).status_code == 202
        )
    assert status.count == 2


# ------------------------------------------------------------------ sessions per client


@pytest.fixture
def generate_held(settings, moto):
    """The local invoker, its generate held (each session stays generating) until released."""
    released = threading.Event()

    def generate(event: dict, context) -> None:
        assert released.wait(PATIENCE)

    invoker = LocalInvoker(generate, settings.invocation.local_generate_concurrency)
    install_invoker(invoker)
    try:
        yield released
    finally:
        released.set()
        invoker.pool.shutdown(wait=True)
        install_invoker(None)


def wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + PATIENCE
    while not condition():
        assert time.monotonic() < deadline, "the condition never came true"
        time.sleep(0.02)


def test_a_client_may_have_only_so_many_sessions_generating_at_once(settings, web_dir, generate_held):
    handlers = {"start": load_handler("start")}
    with serving(settings, handlers, web_dir, local_sessions_per_client=2) as origin:

        def start(_i=0, client: str = "127.0.0.1") -> requests.Response:
            with requests.Session() as http:
                http.mount("http://", SourceAdapter(client))
                return http.post(
                    url(origin, "/audiostream/start/"), json={"text": "Hello.", "cache": False}, timeout=PATIENCE
                )

        assert start().status_code == 202
        # One place left, two starts at the same moment: exactly one gets it.
        outcomes = at_once(2, start)
        assert sorted(answer.status_code for answer in outcomes) == [202, 429], outcomes
        refused = next(answer for answer in outcomes if answer.status_code == 429)
        assert refused.headers["Content-Type"] == "application/json" and int(refused.headers["Retry-After"]) >= 1
        assert refused.json()["limit"] == 2 and "2 sessions" in refused.json()["message"]
        assert start().status_code == 429
        assert origin.origin.client_sessions.held("127.0.0.1") == 2
        assert start(client="127.0.0.2").status_code == 202  # another client has places of its own

        generate_held.set()  # the sessions end: their places are free again
        wait_until(lambda: origin.origin.client_sessions.held("127.0.0.1") == 0)
        # A start the function refuses holds no place.
        bad = requests.post(url(origin, "/audiostream/start/"), data=b"not json", timeout=PATIENCE)
        assert bad.status_code == 400 and origin.origin.client_sessions.held("127.0.0.1") == 0
        assert start().status_code == 202


class SourceAdapter(requests.adapters.HTTPAdapter):
    """requests from a given loopback address (a client of its own)."""

    def __init__(self, source: str):
        self.source = source
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)
