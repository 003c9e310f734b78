"""One client connection to the local origin: uvicorn's HTTP/1.1 protocol (h11), and what CloudFront
does in front of an origin that uvicorn leaves out.

uvicorn's own settings bound what they can (server.py): how long a kept-alive connection may wait
for its next request (``timeout_keep_alive``), the listen queue (``backlog``), the size of a
request's head (h11's ``max_incomplete_event_size``); asyncio sends each write at once (TCP_NODELAY),
and uvicorn says "100 Continue" only when the app first asks for the body. What it does not do, this
class adds, with ``LOCAL_SOCKET_TIMEOUT_SECONDS`` and ``LOCAL_MAX_CONNECTIONS``:

- One deadline for a whole request. uvicorn times out only a kept-alive connection that sends nothing
  at all: a new connection that sends nothing, a client that trickles its head in a byte at a time
  (slowloris), or a body shorter than its Content-Length would hold the connection for ever. Here a
  request, head and body, must arrive within the timeout of the connection starting to wait for it:
  a late head closes the connection, a late body gets 408 from the origin (origin.py reads
  ``deadline``). Each answer must be taken within the same time, and a connection older than that is
  closed after its current answer (origin.py reads ``expired``).
- Waiting for a place. Past ``limit_concurrency`` uvicorn answers 503. Here at most so many
  connections are served at once; the others wait, accepted but unread, in the order they came, until
  one closes. Queueing rather than refusing: a refused client would have to race for each freed
  place against whoever holds the others, and an abuser reconnecting in a loop would win it every
  time; waiting, everyone is served in turn.
- Closing without a reset. Closing a socket with unread data resets the connection, and the reset may
  reach the client before it has read the answer: a connection closed while its client is still
  sending a body is half-closed first, and what still comes is taken and dropped, for a moment.
- A malformed request's 400 in JSON, like every other error of the service.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections import deque
from typing import Any

import h11
from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol, RequestResponseCycle

# The scope's extension that names the request's Connection, for the origin.
CONNECTION = "devstack.connection"
# What is taken (and dropped) of a body still coming when the connection is closed.
LINGER_SECONDS = 1.0
LINGER_BYTES = 256 * 1024


class ConnectionPlaces:
    """At most ``most`` connections served at once; the others wait in the order they came. Used on
    the event loop's thread only."""

    def __init__(self, most: int):
        self.most = most
        self._served: set[Connection] = set()
        self._waiting: deque[Connection] = deque()

    def enter(self, connection: Connection) -> None:
        if len(self._served) < self.most:
            self._serve(connection)
        else:
            self._waiting.append(connection)

    def leave(self, connection: Connection) -> None:
        if connection not in self._served:
            if connection in self._waiting:
                self._waiting.remove(connection)
            return
        self._served.remove(connection)
        while self._waiting and len(self._served) < self.most:
            self._serve(self._waiting.popleft())

    def _serve(self, connection: Connection) -> None:
        self._served.add(connection)
        connection.served()


class Connection(H11Protocol):
    def __init__(self, *args: Any, places: ConnectionPlaces, timeout: float, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.places = places
        self.timeout = timeout
        # On the event loop's clock: when the request now awaited must have arrived, and after when
        # the connection is closed once its current answer is sent.
        self.deadline = math.inf
        self.expires = math.inf
        self._request_timer: asyncio.TimerHandle | None = None
        self._write_timer: asyncio.TimerHandle | None = None
        self._closing: _HalfClosingTransport | None = None
        app = self.app

        async def app_with_connection(scope: Scope, receive: Receive, send: Send) -> None:
            scope["extensions"] = {**scope.get("extensions", {}), CONNECTION: self}
            await app(scope, receive, send)

        self.app = app_with_connection

    def expired(self) -> bool:
        return self.loop.time() > self.expires

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._closing = _HalfClosingTransport(transport, self)
        super().connection_made(self._closing)  # type: ignore[arg-type]
        transport.pause_reading()  # until it has a place
        self.places.enter(self)

    def served(self) -> None:
        """The connection has a place: its first request is awaited from now on."""
        self.expires = self.loop.time() + self.timeout
        self._await_request()
        self.transport.resume_reading()

    def _await_request(self) -> None:
        self.deadline = self.loop.time() + self.timeout
        _cancel(self._request_timer)
        self._request_timer = self.loop.call_at(self.deadline, self._request_late)

    def _request_late(self) -> None:
        # While a request is being answered, the origin answers a late body itself (408).
        cycle: RequestResponseCycle | None = self.cycle
        if cycle is None or cycle.response_complete:
            self.transport.close()

    def on_response_complete(self) -> None:
        if not self.transport.is_closing():
            self._await_request()  # the next request on this kept-alive connection
        super().on_response_complete()

    def data_received(self, data: bytes) -> None:
        if self._closing is not None and self._closing.lingering:
            self._closing.drop(data)
        else:
            super().data_received(data)

    def pause_writing(self) -> None:
        super().pause_writing()
        _cancel(self._write_timer)
        self._write_timer = self.loop.call_later(self.timeout, self.transport.abort)  # the answer not taken

    def resume_writing(self) -> None:
        super().resume_writing()
        _cancel(self._write_timer)

    def connection_lost(self, exc: Exception | None) -> None:
        _cancel(self._request_timer)
        _cancel(self._write_timer)
        self.places.leave(self)
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        body = json.dumps({"message": f"Bad Request: {msg}"}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        for event in (h11.Response(status_code=400, headers=headers), h11.Data(data=body), h11.EndOfMessage()):
            self.transport.write(self.conn.send(event))
        self.transport.close()


class _HalfClosingTransport:
    """The connection's transport, whose ``close()`` half-closes first while the client is still
    sending a body, then drops what comes until the client closes its side, LINGER_BYTES have come,
    or LINGER_SECONDS (at most the timeout) have passed."""

    def __init__(self, transport: asyncio.Transport, connection: Connection):
        self._transport = transport
        self._connection = connection
        self.lingering = False
        self._dropped = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)

    def is_closing(self) -> bool:
        return self.lingering or self._transport.is_closing()

    def close(self) -> None:
        if self.lingering:
            return
        if self._connection.conn.their_state is not h11.SEND_BODY:
            self._transport.close()
            return
        self.lingering = True
        self._transport.write_eof()  # once what is buffered has been sent
        self._transport.resume_reading()
        self._connection.loop.call_later(min(LINGER_SECONDS, self._connection.timeout), self._transport.close)

    def drop(self, data: bytes) -> None:
        self._dropped += len(data)
        if self._dropped >= LINGER_BYTES:
            self._transport.close()


def _cancel(timer: asyncio.TimerHandle | None) -> None:
    if timer is not None:
        timer.cancel()
