"""The local stack's one HTTP origin, laid out like the CloudFront distribution in AWS:
``/audiostream/*`` to the functions (through the gateway), ``/media/hls/*`` from the bucket with its
stored headers, everything else from the demo page's folder.

What it does against a client that costs it more than it should (in AWS, CloudFront and API Gateway
do these jobs), with the settings in settings.py:

- Time. A request, head and body, must arrive within ``LOCAL_SOCKET_TIMEOUT_SECONDS`` of the server
  starting to wait for it: one deadline for the whole request, not a fresh timeout for each read, so
  a client that trickles in a byte at a time (slowloris), or whose Content-Length promises more than
  it sends, is dropped as surely as one that sends nothing. Each answer must be taken within the same
  time, a kept-alive connection is closed when it has waited that long for its next request, and one
  that is older than that is closed after its current answer. So no connection holds a thread for
  much more than three times the timeout.
- Connections. At most ``LOCAL_MAX_CONNECTIONS`` are served at once. Beyond that the server stops
  accepting: further connections wait in the kernel's listen queue (``request_queue_size``) and are
  accepted in the order they came, as the bounds above free a thread. Queueing rather than refusing,
  because a refused client would have to race for each freed place against whoever holds the others,
  and an abuser reconnecting in a loop would win it every time; in the queue everyone is served in
  turn, and the turn comes. Past the listen queue the kernel drops new connections (the client's TCP
  tries again), which a flood can cause and no server-side policy avoids.
- Bodies. Only the start route reads one, and at most what the start function accepts
  (``MAX_BODY_BYTES``): beyond that, 413 in the function's own JSON, from the Content-Length alone,
  without reading the body (beyond API Gateway's 10 MB: 413 as API Gateway answers it). A GET or HEAD
  with a body gets 403, as CloudFront answers it. A body no route reads is never read: the answer
  closes the connection (after a moment to take what is still in flight, so the client sees the
  answer rather than a reset).
- Throttles, per client address, 429 JSON with Retry-After: start by ``LOCAL_RATE_LIMIT_PER_MINUTE``;
  status and engines by ``LOCAL_STATUS_RATE_LIMIT_PER_MINUTE``; and a start while the client already
  has ``LOCAL_SESSIONS_PER_CLIENT`` sessions generating or waiting for a generator
  (client_sessions.py). The media and the page are not throttled: in AWS CloudFront serves them from
  its cache, at no cost to the functions, and here they are plain reads.
"""

from __future__ import annotations

import io
import json
import logging
import mimetypes
import socket
import threading
import time
from contextlib import nullcontext
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from botocore.exceptions import ClientError

from audiostream import aws
from audiostream.config import Settings

from .client_sessions import ClientSessions
from .gateway import Handler, build_event, call_handler, find_route
from .rate_limit import RateLimiter, retry_after_header
from .settings import DevStackSettings

logger = logging.getLogger(__name__)

# API Gateway refuses larger payloads before any function sees them.
API_GATEWAY_MAX_BODY = 10 * 1024 * 1024
# What is taken (and dropped) of a body the answer did not read, before the connection is closed.
LINGER_SECONDS = 1.0
LINGER_BYTES = 256 * 1024
# A client at its sessions limit: worth asking again about this soon (sessions last seconds).
SESSIONS_RETRY_AFTER = "5"
# How long the accept loop waits for a free place before it looks for a shutdown request again.
ACCEPT_POLL_SECONDS = 0.5


class LocalOrigin(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default listen backlog is 5: a burst of clients connecting at once would have
    # connections dropped or reset before a thread ever saw them. It is also where connections wait
    # while every place is taken.
    request_queue_size = 128

    def __init__(
        self,
        local: DevStackSettings,
        settings: Settings,
        handlers: dict[str, Handler],
        client_sessions: ClientSessions | None = None,
    ):
        self.local = local
        self.settings = settings
        self.handlers = handlers
        self.web_root = Path(local.web_dir).resolve()
        self.socket_timeout = local.local_socket_timeout_seconds
        self.start_limiter = RateLimiter(local.local_rate_limit_per_minute)
        per_minute = local.local_status_rate_limit_per_minute
        self.status_limiter = RateLimiter(per_minute, burst=per_minute // 6)
        self.client_sessions = client_sessions or ClientSessions(local.local_sessions_per_client)
        self._places = threading.BoundedSemaphore(local.local_max_connections)
        super().__init__((local.host, local.port), _RequestHandler)

    def get_request(self):
        # While every place is taken, leave further connections in the listen queue (in their order).
        # An OSError makes serve_forever's loop go round (and see a shutdown request) and try again.
        if not self._places.acquire(timeout=ACCEPT_POLL_SECONDS):
            raise OSError("every connection place is taken")
        try:
            return super().get_request()
        except BaseException:
            self._places.release()
            raise

    def process_request(self, request, client_address) -> None:
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._places.release()  # no thread started to release it
            raise

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._places.release()


class RequestTimeout(TimeoutError):
    """The request (head or body) did not arrive by its deadline."""


class _DeadlineReader(io.RawIOBase):
    """The connection's reads, each given what is left until ``deadline`` (not a fresh timeout)."""

    def __init__(self, connection: socket.socket, timeout: float):
        self.connection = connection
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise RequestTimeout("the request did not arrive in time")
        self.connection.settimeout(left)
        try:
            return self.connection.recv_into(buffer)
        except TimeoutError as timeout:
            raise RequestTimeout("the request did not arrive in time") from timeout
        finally:
            self.connection.settimeout(self.timeout)  # what writes are given


class _RequestHandler(BaseHTTPRequestHandler):
    server: LocalOrigin
    protocol_version = "HTTP/1.1"
    # An answer leaves in two writes (headers, then body). With Nagle's algorithm the body waits for
    # the client to acknowledge the headers, which a client delays by up to 40 ms: every request on a
    # kept-alive connection took 40 ms more (a trivial GET: 48 ms instead of 2 ms).
    disable_nagle_algorithm = True

    def setup(self) -> None:
        self.timeout = self.server.socket_timeout  # applied by setup(); bounds each answer's sendall
        super().setup()
        self.rfile.close()  # the socket is closed only when no file made from it is left open
        self._reader = _DeadlineReader(self.connection, self.timeout)
        self.rfile = io.BufferedReader(self._reader)
        self._opened = time.monotonic()
        self._unread_body = False

    def handle_one_request(self) -> None:
        self._reader.deadline = time.monotonic() + self.timeout
        self._unread_body = False
        super().handle_one_request()

    def handle_expect_100(self) -> bool:
        # "100 Continue" only once the body is known to be wanted (see _read_body), so that a client
        # that asked first does not send a body that will be refused.
        return True

    def finish(self) -> None:
        try:
            if self._unread_body:
                self._linger()
        finally:
            super().finish()

    def do_GET(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def __getattr__(self, name: str):
        # Every other method (PUT, TRACE, QUERY, made-up ones) gets what API Gateway and CloudFront
        # give it, a JSON answer, instead of http.server's HTML 501 page.
        if name.startswith("do_"):
            return self._dispatch
        raise AttributeError(name)

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        try:
            length = self._declared_length()
            if length is None:
                return
            if length and self.command in ("GET", "HEAD"):
                self._send_json(403, {"message": "Forbidden: a GET or HEAD request may not carry a body"})
            elif url.path.startswith("/audiostream/"):
                self._api(url.path, url.query, length)
            elif self.command not in ("GET", "HEAD"):
                self._send_json(404 if self.command == "POST" else 405, {"message": "Method Not Allowed"})
            elif url.path.startswith("/" + self.server.settings.storage.media_prefix + "/"):
                self._media(url.path)
            else:
                self._static(url.path)
        except RequestTimeout:
            self._unread_body = False  # nothing more is coming in time; no point waiting for it
            self.close_connection = True
            self._send_last_json(408, {"message": "Request Timeout: the body did not arrive in time"})
        except (TimeoutError, BrokenPipeError, ConnectionResetError):
            # The client did not take the answer in time, or went away: nothing more can be said to it.
            self._unread_body = False
            self.close_connection = True
        except Exception:
            logger.exception("local origin failed on %s %s", self.command, self.path)
            self.close_connection = True
            self._send_last_json(500, {"message": "Internal Server Error"})

    def _declared_length(self) -> int | None:
        """The body's length from the headers; None when the request was refused for it."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self._unread_body = True
            self._send_json(411, {"message": "Length Required: send the body with a Content-Length"})
            return None
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self._unread_body = True
            self._send_json(400, {"message": "Bad Request: invalid Content-Length"})
            return None
        self._unread_body = length > 0  # until _read_body reads it
        return length

    def _read_body(self, length: int) -> bytes:
        if not length:
            return b""
        if self.headers.get("Expect", "").lower() == "100-continue" and self.request_version >= "HTTP/1.1":
            self.send_response_only(100)
            self.end_headers()
        body = self.rfile.read(length)  # within the request's deadline
        if len(body) < length:
            raise ConnectionResetError("the client closed the connection before its body was sent")
        self._unread_body = False
        return body

    def _api(self, path: str, query: str, length: int) -> None:
        found = find_route(self.command, path)
        if found is None:
            self._send_json(404, {"message": "Not Found"})
            return
        route, parameters = found
        client = self.client_address[0]
        hold = None
        if route.function == "start":
            if length > API_GATEWAY_MAX_BODY:
                self._send_json(413, {"message": "Request Entity Too Large"})
                return
            most = self.server.settings.limits.max_body_bytes
            if length > most:
                # The start function's own answer, given from the Content-Length before the body is read.
                message = f"the request body is {length} bytes; the limit is {most}"
                self._send_json(413, {"error": message, "field": "body"})
                return
            body = self._read_body(length)
            if self._throttled(self.server.start_limiter, client):
                return
            hold = self.server.client_sessions.hold(client)
            if hold is None:
                most = self.server.client_sessions.per_client
                message = f"Too Many Requests: at most {most} sessions may be generating at once for one client"
                headers = {"Content-Type": "application/json", "Retry-After": SESSIONS_RETRY_AFTER}
                self._send(429, headers, json.dumps({"message": message, "limit": most}).encode())
                return
        else:
            body = b""  # the other routes take none; one sent is never read (_unread_body)
            if self._throttled(self.server.status_limiter, client):
                return
        event = build_event(route, parameters, self.command, path, query, dict(self.headers.items()), body, client)
        with hold.while_starting() if hold is not None else nullcontext():
            answer = call_handler(self.server.handlers[route.function], event)
        self._send(answer.status, answer.headers, answer.body)

    def _throttled(self, limiter: RateLimiter, client: str) -> bool:
        wait = limiter.acquire(client)
        if wait:
            headers = {"Content-Type": "application/json", "Retry-After": retry_after_header(wait)}
            self._send(429, headers, b'{"message":"Too Many Requests"}')
        return bool(wait)

    def _media(self, path: str) -> None:
        key = path.lstrip("/")
        try:
            stored = aws.s3().get_object(Bucket=self.server.settings.storage.media_bucket, Key=key)
        except ClientError as error:
            if error.response["Error"]["Code"] in ("NoSuchKey", "404"):
                self._send_json(404, {"error": f"no media at {path}"})
                return
            raise
        headers = {"Content-Type": stored["ContentType"]}
        if stored.get("CacheControl"):
            headers["Cache-Control"] = stored["CacheControl"]
        if "ContentDisposition" in stored:
            headers["Content-Disposition"] = stored["ContentDisposition"]
        self._send(200, headers, stored["Body"].read())

    def _static(self, path: str) -> None:
        relative = path.lstrip("/") or "index.html"
        target = (self.server.web_root / relative).resolve()
        if target.is_dir():
            target = target / "index.html"
        if not target.is_relative_to(self.server.web_root) or not target.is_file():
            self._send_json(404, {"error": f"nothing at {path}"})
            return
        content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        self._send(200, {"Content-Type": content_type, "Cache-Control": "no-cache"}, target.read_bytes())

    def _send_json(self, status: int, body: dict) -> None:
        self._send(status, {"Content-Type": "application/json"}, json.dumps(body).encode())

    def _send_last_json(self, status: int, body: dict) -> None:
        """An answer after a failure, to a client that may be gone already."""
        try:
            self._send_json(status, body)
        except OSError:
            pass

    def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
        if self._unread_body or time.monotonic() - self._opened > self.timeout:
            self.close_connection = True  # an unread body would be taken for the next request
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in ("content-length", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _linger(self) -> None:
        """Half-close, then take and drop what the client is still sending, for a moment: closing a
        socket with unread data resets the connection, and the reset may reach the client before it
        has read the answer."""
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + min(LINGER_SECONDS, self.timeout)
            dropped = 0
            while dropped < LINGER_BYTES:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.connection.settimeout(left)
                data = self.connection.recv(65536)
                if not data:
                    break
                dropped += len(data)
        except OSError:
            pass

    def log_message(self, format: str, *args) -> None:
        logger.debug("%s %s", self.address_string(), format % args)
