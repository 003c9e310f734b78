"""Noticing a cancel while a session is generated, wherever generate is waiting.

The cancel route makes the session REVOKED at once (cancelling.py); generate learns it from a watch
that reads the session's state every half second. What generate waits for is made on a thread of its
own, so that the speaker waits on a queue and looks at the watch between looks at it: the engine's
next piece (``RevocationWatch.each``; a slow or hung engine may never hand it over), and the language
model's next words (read_ahead.py, which calls ``raise_if_revoked`` while it waits). A cancel stops
the session within a second even while an engine hangs.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from ..observability import logger
from ..store.sessions import SessionStore, State

T = TypeVar("T")

CHECK_SECONDS = 0.5  # how often the watch reads the state: a cancel is noticed within this
_LOOK_SECONDS = 0.05  # how often a speaker waiting for the next item looks at the watch
_END = object()


class _Failed:
    def __init__(self, error: BaseException):
        self.error = error


class Revoked(Exception):
    """The session was cancelled while it was being generated."""

    def __init__(self) -> None:
        super().__init__("the session was cancelled")


class RevocationWatch:
    def __init__(self, sessions: SessionStore, session_id: str, interval: float = CHECK_SECONDS):
        self.sessions = sessions
        self.session_id = session_id
        self.interval = interval
        self.revoked = threading.Event()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._watch, name=f"revoked-{session_id[:8]}", daemon=True)

    def __enter__(self) -> RevocationWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stopped.set()

    def _watch(self) -> None:
        while not self._stopped.wait(self.interval):
            try:
                if self.sessions.state_of(self.session_id) is State.REVOKED:
                    self.revoked.set()
                    return
            except (ClientError, BotoCoreError) as error:  # the next look may get through
                logger.warning("could not read whether the session was cancelled: %s", error)

    def raise_if_revoked(self) -> None:
        if self.revoked.is_set():
            raise Revoked

    def each(self, items: Iterable[T], name: str) -> Iterator[T]:
        """``items`` as they come, made on a thread of their own; raises Revoked as soon as the watch
        sees the cancel, also while the next item is still being made. Each item is asked for only
        when the speaker wants it, as a plain loop would (a model's chunks are packed at that moment).
        An item in the making when the speaker stops is dropped, and the source is closed (on its
        thread) once it hands it over."""
        wanted = threading.Semaphore(0)
        handed: queue.SimpleQueue = queue.SimpleQueue()
        stop = threading.Event()

        def asked() -> bool:
            while not stop.is_set():
                if wanted.acquire(timeout=_LOOK_SECONDS):
                    return not stop.is_set()
            return False

        def make() -> None:
            source = iter(items)
            try:
                while asked():
                    handed.put(next(source, _END))
            except BaseException as error:  # raised again by the speaker, in its own thread
                handed.put(_Failed(error))
            finally:
                close = getattr(source, "close", None)
                if close is not None:
                    close()

        threading.Thread(target=make, name=name, daemon=True).start()
        try:
            while True:
                wanted.release()
                while True:
                    self.raise_if_revoked()
                    try:
                        item = handed.get(timeout=_LOOK_SECONDS)
                        break
                    except queue.Empty:
                        continue
                if item is _END:
                    return
                if isinstance(item, _Failed):
                    raise item.error
                yield item
        finally:
            stop.set()
