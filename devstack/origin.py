"""The local stack's one HTTP origin, an ASGI app laid out like the CloudFront distribution in AWS:
``/audiostream/*`` to the functions as API Gateway calls them (gateway.py), ``/media/hls/*`` from
the bucket with its stored headers, everything else from the demo page's folder. uvicorn serves it
(server.py), each connection bounded in time and number (connection.py).

What it refuses, per request, of a client that costs more than it should (in AWS, CloudFront and API
Gateway do these jobs), with the settings in settings.py:

- Bodies. Only the start route reads one, and at most what the start function accepts
  (``MAX_BODY_BYTES``): beyond that, 413 in the function's own JSON, from the Content-Length alone,
  without reading the body (beyond API Gateway's 10 MB: 413 as API Gateway answers it); a body that
  does not arrive by the connection's deadline, 408. A GET or HEAD with a body gets 403, as CloudFront
  answers it; a chunked one, 411. A body no route reads is never read: its answer closes the
  connection.
- Throttles, per client address, 429 JSON with Retry-After: start by ``LOCAL_RATE_LIMIT_PER_MINUTE``;
  status and engines by ``LOCAL_STATUS_RATE_LIMIT_PER_MINUTE``; and a start while the client already
  has ``LOCAL_SESSIONS_PER_CLIENT`` sessions generating or waiting for a generator
  (client_sessions.py). The media and the page are not throttled: in AWS CloudFront serves them from
  its cache, at no cost to the functions, and here they are plain reads.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import request_response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from audiostream import aws
from audiostream.config import Settings

from .client_sessions import ClientSessions
from .connection import CONNECTION, Connection
from .gateway import FunctionWorkers, Handler, build_event, find_route
from .rate_limit import RateLimiter, retry_after_header
from .settings import DevStackSettings

API_PREFIX = "/audiostream/"
# API Gateway refuses larger payloads before any function sees them.
API_GATEWAY_MAX_BODY = 10 * 1024 * 1024
# A client at its sessions limit: worth asking again about this soon (sessions last seconds).
SESSIONS_RETRY_AFTER = "5"


class LocalOrigin:
    def __init__(
        self,
        local: DevStackSettings,
        settings: Settings,
        handlers: dict[str, Handler],
        client_sessions: ClientSessions | None = None,
    ):
        self.settings = settings
        self.handlers = handlers
        self.start_limiter = RateLimiter(local.local_rate_limit_per_minute)
        per_minute = local.local_status_rate_limit_per_minute
        self.status_limiter = RateLimiter(per_minute, burst=per_minute // 6)
        self.client_sessions = client_sessions or ClientSessions(local.local_sessions_per_client)
        # One call per connection at most: as many workers as connections are served at once.
        self.functions = FunctionWorkers(local.local_max_connections)
        self.media_prefix = "/" + settings.storage.media_prefix + "/"
        self.api = request_response(self._api)
        self.media = request_response(self._media)
        self.page = Page(directory=Path(local.web_dir), html=True, check_dir=False)
        self.app = EdgeRules(ServerErrorMiddleware(self._route, handler=_internal_error))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    async def _route(self, scope: Scope, receive: Receive, send: Send) -> None:
        # By the path as sent, as API Gateway and CloudFront match it. (Starlette's router matches the
        # decoded path, where none of its patterns matches a path with an escaped newline in it.)
        path = _raw_path(scope)
        if path.startswith(API_PREFIX):
            await self.api(scope, receive, send)
        elif path.startswith(self.media_prefix):
            await self.media(scope, receive, send)
        else:
            await self.page(scope, receive, send)

    def close(self) -> None:
        self.functions.close()

    async def _api(self, request: Request) -> Response:
        path = _raw_path(request.scope)
        found = find_route(request.method, path)
        if found is None:
            return JSONResponse({"message": "Not Found"}, 404)
        route, parameters = found
        client = request.client.host if request.client else ""
        hold = None
        if route.function == "start":
            length = int(request.headers.get("content-length") or 0)
            if length > API_GATEWAY_MAX_BODY:
                return JSONResponse({"message": "Request Entity Too Large"}, 413)
            most = self.settings.limits.max_body_bytes
            if length > most:
                # The start function's own answer, given from the Content-Length before the body is read.
                message = f"the request body is {length} bytes; the limit is {most}"
                return JSONResponse({"error": message, "field": "body"}, 413)
            try:
                body = await _read_body(request, length)
            except (TimeoutError, ClientDisconnect):  # to a client gone already, the answer is not sent
                late = {"message": "Request Timeout: the body did not arrive in time"}
                return JSONResponse(late, 408, headers={"Connection": "close"})
            if refused := _throttled(self.start_limiter, client):
                return refused
            hold = self.client_sessions.hold(client)
            if hold is None:
                most = self.client_sessions.per_client
                message = f"Too Many Requests: at most {most} sessions may be generating at once for one client"
                return JSONResponse({"message": message, "limit": most}, 429, {"Retry-After": SESSIONS_RETRY_AFTER})
        else:
            body = b""  # the other routes take none; one sent is never read (EdgeRules)
            if refused := _throttled(self.status_limiter, client):
                return refused
        query = request.scope["query_string"].decode("latin-1")
        event = build_event(route, parameters, request.method, path, query, dict(request.headers), body, client)
        answer = await self.functions.call(self.handlers[route.function], event, hold)
        headers = {name: value for name, value in answer.headers.items() if name.lower() not in _FRAMING}
        return Response(answer.body, answer.status, headers)

    async def _media(self, request: Request) -> Response:
        path = _raw_path(request.scope)
        try:
            stored, body = await run_in_threadpool(self._get_object, path.lstrip("/"))
        except ClientError as error:
            if error.response["Error"]["Code"] in ("NoSuchKey", "404"):
                return JSONResponse({"error": f"no media at {path}"}, 404)
            raise
        headers = {"Content-Type": stored["ContentType"]}
        if stored.get("CacheControl"):
            headers["Cache-Control"] = stored["CacheControl"]
        if "ContentDisposition" in stored:
            headers["Content-Disposition"] = stored["ContentDisposition"]
        return Response(body, 200, headers)

    def _get_object(self, key: str) -> tuple[dict[str, Any], bytes]:
        stored = aws.s3().get_object(Bucket=self.settings.storage.media_bucket, Key=key)
        return stored, stored["Body"].read()


class EdgeRules:
    """What CloudFront and API Gateway refuse before any route sees a request, and when the
    connection is closed after an answer: when a body was left unread (it would be taken for the next
    request), and when the connection is older than its timeout (connection.py)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        length = int(headers.get("content-length") or 0)  # h11 has refused one that is not a number
        unread = chunked or length > 0
        connection: Connection | None = scope.get("extensions", {}).get(CONNECTION)

        async def receive_noting_the_end() -> Message:
            nonlocal unread
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                unread = False
            return message

        async def send_closing(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(_capitalized(name), value) for name, value in message.get("headers", [])]
                if unread or (connection is not None and connection.expired()):
                    headers = [(name, value) for name, value in headers if name != b"Connection"]
                    headers.append((b"Connection", b"close"))
                message = {**message, "headers": headers}
            await send(message)

        method = scope["method"]
        if chunked:
            app: ASGIApp = JSONResponse({"message": "Length Required: send the body with a Content-Length"}, 411)
        elif length and method in ("GET", "HEAD"):
            app = JSONResponse({"message": "Forbidden: a GET or HEAD request may not carry a body"}, 403)
        elif not _raw_path(scope).startswith(API_PREFIX) and method not in ("GET", "HEAD"):
            app = JSONResponse({"message": "Method Not Allowed"}, 404 if method == "POST" else 405)
        else:
            app = self.app
        await app(scope, receive_noting_the_end, send_closing)


class Page(StaticFiles):
    """The demo page's folder, never cached without asking (``no-cache``); refusals in JSON."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.config_checked = True  # a missing folder serves 404s, as an empty one does

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            response = await super().get_response(path, scope)
        except HTTPException as error:
            message = f"nothing at {_raw_path(scope)}" if error.status_code == 404 else error.detail
            return JSONResponse({"error": message}, error.status_code, error.headers)
        response.headers["Cache-Control"] = "no-cache"
        return response


# Headers of a function's answer that are the origin's own to set.
_FRAMING = ("content-length", "connection", "transfer-encoding")


def _capitalized(name: bytes) -> bytes:
    """A header's name as HTTP/1.1 servers write it (Content-Type). Starlette writes them in lower
    case, and a client that takes the names as written (a dict of the headers) would miss them."""
    return b"-".join(part.capitalize() for part in name.split(b"-"))


def _raw_path(scope: Scope) -> str:
    """The path as the client sent it, percent escapes and all (what API Gateway matches routes on)."""
    raw: bytes | None = scope.get("raw_path")
    path: str = raw.decode("latin-1") if raw is not None else scope["path"]
    return path


async def _read_body(request: Request, length: int) -> bytes:
    """The body, by the connection's deadline (TimeoutError after it)."""
    if not length:
        return b""
    connection: Connection | None = request.scope.get("extensions", {}).get(CONNECTION)
    deadline = connection.deadline if connection is not None else None
    async with asyncio.timeout_at(deadline):
        return await request.body()


def _throttled(limiter: RateLimiter, client: str) -> Response | None:
    wait = limiter.acquire(client)
    if not wait:
        return None
    return JSONResponse({"message": "Too Many Requests"}, 429, {"Retry-After": retry_after_header(wait)})


async def _internal_error(request: Request, error: Exception) -> Response:
    # Starlette raises the error again once this is sent, and uvicorn logs it.
    return JSONResponse({"message": "Internal Server Error"}, 500, {"Connection": "close"})
