"""uvicorn serving the local origin (origin.py), with its own limits where it has them: the listen
queue (``backlog``), the wait of a kept-alive connection for its next request
(``timeout_keep_alive``), the size of a request's head (h11's default, 16 KiB). connection.py adds the
request deadline, the connection places and the closing without a reset that it has no setting for.

The listening socket is bound here, before uvicorn starts: the address (``PORT=0``: a port the
kernel picks) is known at once, and a client that connects before uvicorn has started waits in the
listen queue.
"""

from __future__ import annotations

import logging
import socket
from functools import partial

import uvicorn

from .connection import Connection, ConnectionPlaces
from .origin import LocalOrigin
from .settings import DevStackSettings

logger = logging.getLogger(__name__)

# Connections waiting to be accepted: a burst of clients connecting at once must not be dropped.
BACKLOG = 128
# On shutdown, how long answers under way may take before they are cancelled.
SHUTDOWN_GRACE_SECONDS = 3


class OriginServer:
    def __init__(self, origin: LocalOrigin, local: DevStackSettings):
        self.origin = origin
        self.socket = _listen(local.host, local.port)
        self.address: tuple[str, int] = self.socket.getsockname()[:2]
        timeout = local.local_socket_timeout_seconds
        places = ConnectionPlaces(local.local_max_connections)
        config = uvicorn.Config(
            origin,
            http=partial(Connection, places=places, timeout=timeout),  # type: ignore[arg-type]
            ws="none",
            loop="asyncio",
            interface="asgi3",
            lifespan="off",
            # The client is the connection's own address: a header naming another one would slip
            # past the throttles, which count per client.
            proxy_headers=False,
            backlog=BACKLOG,
            timeout_keep_alive=timeout,  # type: ignore[arg-type]
            timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
            log_config=None,  # the stack's own logging (__main__.py)
            access_log=logger.isEnabledFor(logging.DEBUG),
        )
        self.server = uvicorn.Server(config)

    def run(self) -> None:
        """Serve until ``stop()``, or SIGINT or SIGTERM when on the main thread (uvicorn then raises the
        signal again, for the caller's own handling, once it has shut down)."""
        self.server.run(sockets=[self.socket])

    def stop(self) -> None:
        self.server.should_exit = True


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # Made as TCP by name: asyncio sets TCP_NODELAY only on connections whose listening socket says
    # so, and without it each answer's body waited for the client's delayed acknowledgement of its
    # head (40 ms a request on a kept-alive connection).
    listening = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind((host, port))
        listening.listen(BACKLOG)
    except BaseException:
        listening.close()
        raise
    return listening
