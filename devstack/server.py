"""The local stack's one HTTP origin, laid out like the CloudFront distribution in AWS:
``/audiostream/*`` to the functions (through the gateway), ``/media/hls/*`` from the bucket with its
stored headers, everything else from the demo page's folder."""

from __future__ import annotations

import json
import logging
import mimetypes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from botocore.exceptions import ClientError

from audiostream import aws
from audiostream.config import Settings

from .gateway import Handler, build_event, call_handler, find_route
from .rate_limit import RateLimiter, retry_after_header

logger = logging.getLogger(__name__)

# API Gateway refuses larger payloads before any function sees them.
API_GATEWAY_MAX_BODY = 10 * 1024 * 1024


class LocalOrigin(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default listen backlog is 5: a burst of clients connecting at once would have
    # connections dropped or reset before a thread ever saw them.
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        settings: Settings,
        handlers: dict[str, Handler],
        web_root: Path,
        start_limiter: RateLimiter | None = None,
    ):
        super().__init__(address, _RequestHandler)
        self.settings = settings
        self.handlers = handlers
        self.web_root = web_root.resolve()
        self.start_limiter = start_limiter or RateLimiter(0)


class _RequestHandler(BaseHTTPRequestHandler):
    server: LocalOrigin
    protocol_version = "HTTP/1.1"

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
            if url.path.startswith("/audiostream/"):
                self._api(url.path, url.query)
            elif self.command not in ("GET", "HEAD"):
                self._send_json(404 if self.command == "POST" else 405, {"message": "Method Not Allowed"})
            elif url.path.startswith("/" + self.server.settings.storage.media_prefix + "/"):
                self._media(url.path)
            else:
                self._static(url.path)
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception:
            logger.exception("local origin failed on %s %s", self.command, self.path)
            self._send_json(500, {"message": "Internal Server Error"})

    def _api(self, path: str, query: str) -> None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            self._send_json(411, {"message": "Length Required: send the body with a Content-Length"})
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            self._send_json(400, {"message": "Bad Request: invalid Content-Length"})
            return
        if length > API_GATEWAY_MAX_BODY:
            self.close_connection = True
            self._send_json(413, {"message": "Request Entity Too Large"})
            return
        body = self.rfile.read(length) if length else b""
        found = find_route(self.command, path)
        if found is None:
            self._send_json(404, {"message": "Not Found"})
            return
        route, parameters = found
        if route.function == "start":
            wait = self.server.start_limiter.acquire(self.client_address[0])
            if wait:
                headers = {"Content-Type": "application/json", "Retry-After": retry_after_header(wait)}
                self._send(429, headers, b'{"message":"Too Many Requests"}')
                return
        event = build_event(
            route, parameters, self.command, path, query, dict(self.headers.items()), body, self.client_address[0]
        )
        answer = call_handler(self.server.handlers[route.function], event)
        self._send(answer.status, answer.headers, answer.body)

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

    def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in ("content-length", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:
        logger.debug("%s %s", self.address_string(), format % args)
