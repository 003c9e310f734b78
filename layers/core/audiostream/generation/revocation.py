"""Noticing a cancel while a session is generated, wherever generate is waiting.

The cancel route makes the session REVOKED at once (api/cancel.py); generate learns it from a watch
that reads the session's state every half second. What generate waits for is made on a thread of its
own, so that the speaker waits on a queue and looks at the watch between looks at it: the engine's
next piece (``RevocationWatch.each``; a slow or hung engine may never hand it over), and the language
model's next words (read_ahead.py, which calls ``raise_if_revoked`` while it waits). A cancel stops
the session within a second even while an engine hangs.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterable
from enum import Enum

from botocore.exceptions import BotoCoreError, ClientError

from ..observability import logger
from ..store.sessions import SessionStore, State
from ..workers import Crew, Worker

CHECK_SECONDS = 0.5  # how often the watch reads the state: a cancel is noticed within this
_LOOK_SECONDS = 0.05  # how often a speaker waiting for the next item looks at the watch


class _End(Enum):
    """What a maker hands over after its last item."""

    END = "end"


_END = _End.END


class Revoked(Exception):
    """The session was cancelled while it was being generated."""

    def __init__(self) -> None:
        super().__init__("the session was cancelled")


class RevocationWatch(Worker):
    def __init__(self, sessions: SessionStore, session_id: str, interval: float = CHECK_SECONDS):
        super().__init__(f"revoked-{session_id[:8]}")
        self.sessions = sessions
        self.session_id = session_id
        self.interval = interval
        self.revoked = threading.Event()

    def work(self) -> None:
        while not self.stopping.wait(self.interval):
            try:
                if self.sessions.state_of(self.session_id) is State.REVOKED:
                    self.revoked.set()
                    return
            except (ClientError, BotoCoreError) as error:  # the next look may get through
                logger.warning("could not read whether the session was cancelled: %s", error)

    def raise_if_revoked(self) -> None:
        if self.revoked.is_set():
            raise Revoked

    def each[T](self, items: Iterable[T], name: str, crew: Crew) -> Generator[T, None, None]:
        """``items`` as they come, made by a worker of ``crew``; raises Revoked as soon as the watch
        sees the cancel, also while the next item is still being made. Each item is asked for only
        when the speaker wants it, as a plain loop would (a model's chunks are packed at that moment).
        An item in the making when the speaker stops is dropped, and the source is closed (on its
        worker's thread) once it hands it over; the crew joins that worker when the run ends."""
        maker = crew.start(_ItemMaker(items, name))
        try:
            while True:
                maker.wanted.release()
                item = self._handed_by(maker)
                if item is _END:
                    return
                yield item
        finally:
            maker.close()

    def _handed_by[T](self, maker: _ItemMaker[T]) -> T | _End:
        """The maker's next item (or the end), looking at the watch while it is being made."""
        while True:
            self.raise_if_revoked()
            try:
                return maker.handed.get(timeout=_LOOK_SECONDS)
            except queue.Empty:
                # The error is set after the maker's last item was handed: raised once all is taken.
                if maker.handed.empty():
                    maker.raise_if_failed()


class _ItemMaker[T](Worker):
    """Runs the engine, which may hang: each item is made inside ``foreign_call``."""

    def __init__(self, items: Iterable[T], name: str):
        super().__init__(name)
        self.items = items
        self.wanted = threading.Semaphore(0)
        self.handed: queue.SimpleQueue[T | _End] = queue.SimpleQueue()

    def _asked(self) -> bool:
        while not self.stopping.is_set():
            if self.wanted.acquire(timeout=_LOOK_SECONDS):
                return not self.stopping.is_set()
        return False

    def work(self) -> None:
        source = iter(self.items)
        try:
            while self._asked():
                with self.foreign_call() as calling:
                    if not calling:
                        return
                    item = next(source, _END)
                self.handed.put(item)
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()
