"""Sessions per client on the local stack: one client address may have at most ``per_client``
sessions between their start request and the end of their generate invocation (running, or waiting
in the local invoker's queue for a worker), so that one client cannot take every generator.

A start holds a place before the start function runs, under one lock, so two starts at the same
moment from a client one place short of its limit cannot both pass. The start function hands the
session to the local invoker on the request's own thread of control; the invoker takes the place
over (``take_start_hold``, through a context variable) and gives it back when generate returns.
A start that never reached the invoker (refused, failed) gives its place back as it answers.

In AWS, generate's reserved concurrency bounds the sessions of all clients together; a per-client
bound there would take AWS WAF or an authorizer (SECURITY.md)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_starting: ContextVar[Hold | None] = ContextVar("devstack_start_hold", default=None)


class Hold:
    """One session's place among its client's sessions."""

    def __init__(self, sessions: ClientSessions, client: str):
        self.sessions = sessions
        self.client = client
        self.taken_over = False
        self._released = False

    @contextmanager
    def while_starting(self) -> Iterator[None]:
        """Around the start function's call: an invoke made meanwhile takes this place over; if none
        does, the place is given back at the end."""
        token = _starting.set(self)
        try:
            yield
        finally:
            _starting.reset(token)
            if not self.taken_over:
                self.release()

    def release(self) -> None:
        """Give the place back (once; later calls do nothing)."""
        self.sessions._release(self)


class ClientSessions:
    def __init__(self, per_client: int):
        self.per_client = per_client  # 0: no limit (places are still counted)
        self._held: dict[str, int] = {}
        self._lock = threading.Lock()

    def hold(self, client: str) -> Hold | None:
        """A place for one more session of ``client``; None when it already has ``per_client``."""
        with self._lock:
            held = self._held.get(client, 0)
            if self.per_client and held >= self.per_client:
                return None
            self._held[client] = held + 1
            return Hold(self, client)

    def held(self, client: str) -> int:
        with self._lock:
            return self._held.get(client, 0)

    def _release(self, hold: Hold) -> None:
        with self._lock:
            if hold._released:
                return
            hold._released = True
            left = self._held[hold.client] - 1
            if left:
                self._held[hold.client] = left
            else:
                del self._held[hold.client]


def take_start_hold() -> Hold | None:
    """For the local invoker: the place of the start request this invoke comes from (None outside
    one, or if already taken), now the invocation's to release when generate returns."""
    hold = _starting.get()
    if hold is None or hold.taken_over:
        return None
    hold.taken_over = True
    return hold


def give_back_start_hold(hold: Hold) -> None:
    """For the local invoker, when it could not queue the invocation: the start keeps the place, and
    gives it back as it answers."""
    hold.taken_over = False
