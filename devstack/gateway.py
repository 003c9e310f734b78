"""What API Gateway's HTTP API does in front of the functions: match a route, build the payload
format 2.0 event, call the Lambda handler, and turn its answer back into an HTTP response.

A handler blocks (boto3; Mangum drives the function's ASGI app to its end on the thread's event loop),
so the origin's event loop hands each call to a worker thread (``FunctionWorkers``), as Lambda runs
each invocation in an execution environment of its own. Each worker keeps one event loop for its
whole life, the one Mangum finds, instead of one made per request."""

from __future__ import annotations

import asyncio
import base64
import re
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from .client_sessions import Hold
from .lambda_runtime import LocalLambdaContext

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # as in template.yaml, e.g. /audiostream/task-status/{task_id}/
    function: str

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method != self.method:
            return None
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.path))
        found = re.fullmatch(pattern, path)
        return {key: unquote(value) for key, value in found.groupdict().items()} if found else None


# The same routes template.yaml gives the HTTP API.
ROUTES = (
    Route("POST", "/audiostream/start/", "start"),
    Route("POST", "/audiostream/start", "start"),
    Route("GET", "/audiostream/task-status/{task_id}/", "status"),
    Route("GET", "/audiostream/task-status/{task_id}", "status"),
    Route("GET", "/audiostream/engines/", "status"),
    Route("GET", "/audiostream/engines", "status"),
    Route("POST", "/audiostream/cancel/{task_id}/", "cancel"),
    Route("POST", "/audiostream/cancel/{task_id}", "cancel"),
)


@dataclass
class GatewayResponse:
    status: int
    headers: dict[str, str]
    body: bytes


def find_route(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    for route in ROUTES:
        parameters = route.match(method, path)
        if parameters is not None:
            return route, parameters
    return None


def build_event(
    route: Route,
    parameters: dict[str, Any],
    method: str,
    path: str,
    query: str,
    headers: dict[str, str],
    body: bytes,
    source_ip: str,
) -> dict[str, Any]:
    try:
        text, encoded = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(body).decode(), True
    now = time.time()
    event = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": path,
        "rawQueryString": query,
        "headers": {name.lower(): value for name, value in headers.items()},
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": headers.get("host", "localhost"),
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route.route_key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": encoded,
    }
    if parameters:
        event["pathParameters"] = parameters
    if body:
        event["body"] = text
    return event


def call_handler(handler: Handler, event: dict[str, Any]) -> GatewayResponse:
    """Call the handler on this thread (a FunctionWorkers thread: Mangum runs on its event loop)."""
    answer = handler(event, LocalLambdaContext(function_name="audiostream-http"))
    body = answer.get("body") or ""
    data = base64.b64decode(body) if answer.get("isBase64Encoded") else body.encode()
    headers = {name: str(value) for name, value in (answer.get("headers") or {}).items()}
    return GatewayResponse(int(answer.get("statusCode", 200)), headers, data)


class FunctionWorkers:
    """At most ``most`` handler calls at once, each on a worker thread with an event loop of its own."""

    def __init__(self, most: int):
        self._loops: list[asyncio.AbstractEventLoop] = []
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(most, thread_name_prefix="function", initializer=self._give_loop)

    def _give_loop(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        with self._lock:
            self._loops.append(loop)

    async def call(self, handler: Handler, event: dict[str, Any], hold: Hold | None = None) -> GatewayResponse:
        """The handler's answer; a start's ``hold`` is the invocation's to take over while it runs."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, _call, handler, event, hold)

    def close(self) -> None:
        """Wait for the calls under way, then end the workers and their event loops."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            for loop in self._loops:
                loop.close()
            self._loops.clear()


def _call(handler: Handler, event: dict[str, Any], hold: Hold | None) -> GatewayResponse:
    # The hold's context variable is set on this thread, where the start function invokes generate.
    with hold.while_starting() if hold is not None else nullcontext():
        return call_handler(handler, event)
