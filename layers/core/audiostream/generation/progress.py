"""Progress of a running session, written to DynamoDB at most once per interval.

The speaking loop and the segment publisher both report progress; one write per chunk and one per
segment would be ~170 writes for five minutes of speech. Reports are merged and written by a worker
thread (never on the speaking path): the first at once, later ones at most every ``interval`` seconds,
so a client polling every second sees fresh figures at a fraction of the writes. The exception is the
first report that names segments: a page waits for it to start its player, so it is written at once
(held back by the interval, it delayed the first sound by most of that interval). Writes are best
effort: a lost one is corrected by the next, and only a session that is no longer in PROGRESS stops
the work.
"""

from __future__ import annotations

import threading
import time

from botocore.exceptions import BotoCoreError, ClientError

from ..observability import logger
from ..store.sessions import SessionStore, SessionUpdate, TransitionRefused
from ..workers import Worker


class ProgressRecorder(Worker):
    """Reports merged and written by one worker: when due (the interval after the last write, or at
    once for the first report naming segments), and a heartbeat when nothing was written for
    ``heartbeat`` seconds. ``flush`` stops it and writes what is pending."""

    def __init__(self, sessions: SessionStore, session_id: str, interval: float = 0.5, heartbeat: float = 15.0):
        super().__init__(f"progress-{session_id[:8]}")
        self.sessions = sessions
        self.session_id = session_id
        self.interval = interval
        self.heartbeat = heartbeat
        self.refused: TransitionRefused | None = None
        self._pending = SessionUpdate()
        self._due: float | None = None  # when the pending report is to be written (None: nothing pending)
        self._last_write = time.monotonic()  # the heartbeat counts from the start
        self._ever_written = False
        self._segments_noted = False
        self._flushed = False
        # _changed guards what is pending and is never held across a DynamoDB call, so record() is
        # instant; _writing keeps writes in order (a newer figure is never overwritten by an older).
        self._changed = threading.Condition()
        self._writing = threading.Lock()

    def record(self, update: SessionUpdate) -> None:
        """Note progress; the worker writes it, so no caller ever waits for DynamoDB. After ``flush``
        nothing more is noted: the session's final write carries the last figures."""
        with self._changed:
            if self._flushed:
                return
            self._pending = self._pending.merged_with(update)
            now = time.monotonic()
            first_segments = bool(update.segments) and not self._segments_noted
            self._segments_noted = self._segments_noted or bool(update.segments)
            if first_segments or not self._ever_written:
                self._due = now
            elif self._due is None:
                self._due = max(now, self._last_write + self.interval)
            self._changed.notify()

    def raise_if_refused(self) -> None:
        if self.refused is not None:
            raise self.refused

    def close(self) -> None:
        with self._changed:
            super().close()
            self._changed.notify()

    def flush(self) -> None:
        """Stop the worker and write what is pending now (before the session's final transition)."""
        with self._changed:
            self._flushed = True
        self.close()
        self.join()
        self._write()

    def work(self) -> None:
        while True:
            with self._changed:
                while True:
                    if self.stopping.is_set():
                        return
                    now = time.monotonic()
                    if self._due is not None and now >= self._due:
                        break
                    beat_due = self._last_write + self.heartbeat
                    if now >= beat_due:
                        self._pending = self._pending.merged_with(SessionUpdate(heartbeat_at=time.time()))
                        break
                    self._changed.wait(min(self._due if self._due is not None else beat_due, beat_due) - now)
            self._write()

    def _write(self) -> None:
        with self._writing:
            with self._changed:
                update, self._pending, self._due = self._pending, SessionUpdate(), None
                if not update.changes():
                    return
                self._last_write = time.monotonic()
                self._ever_written = True
            self._send(update)

    def _send(self, update: SessionUpdate) -> None:
        try:
            self.sessions.record_progress(self.session_id, update)
        except TransitionRefused as refused:
            self.refused = refused
        except (ClientError, BotoCoreError) as error:
            logger.warning("progress not recorded: %s", error, extra={"session_id": self.session_id})
