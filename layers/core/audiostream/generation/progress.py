"""Progress of a running session, written to DynamoDB at most once per interval.

The speaking loop and the segment publisher both report progress; one write per chunk and one per
segment would be ~170 writes for five minutes of speech. Reports are merged and written by a timer
thread (never on the speaking path): the first at once, later ones at most every ``interval`` seconds,
so a client polling every second sees fresh figures at a fraction of the writes. The exception is the
first report that names segments: a page waits for it to start its player, so it is written at once
(held back by the interval, first sound came about 0.4 s after the first segment was listed). Writes
are best effort:
a lost one is corrected by the next, and only a session that is no longer in PROGRESS stops the work.
"""

from __future__ import annotations

import threading
import time

from botocore.exceptions import BotoCoreError, ClientError

from ..observability import logger
from ..store.sessions import SessionStore, SessionUpdate, TransitionRefused


class ProgressRecorder:
    def __init__(self, sessions: SessionStore, session_id: str, interval: float = 0.5, heartbeat: float = 15.0):
        self.sessions = sessions
        self.session_id = session_id
        self.interval = interval
        self.refused: TransitionRefused | None = None
        self._pending = SessionUpdate()
        self._last_write = float("-inf")
        self._timer: threading.Timer | None = None
        self._timer_due = 0.0
        self._segments_noted = False
        # _lock guards what is pending and is never held across a DynamoDB call, so record() is
        # instant; _writing keeps writes in order (a newer figure is never overwritten by an older).
        self._lock = threading.Lock()
        self._writing = threading.Lock()
        # A heartbeat, so that a session whose invocation died without a word shows as stalled.
        self._heartbeat = heartbeat
        self._stopped = threading.Event()
        self._beats = threading.Thread(target=self._beat, name=f"heartbeat-{session_id[:8]}", daemon=True)
        self._beats.start()

    def _beat(self) -> None:
        while not self._stopped.wait(self._heartbeat):
            if time.monotonic() - self._last_write >= self._heartbeat:
                self.record(SessionUpdate(heartbeat_at=time.time()))

    def record(self, update: SessionUpdate) -> None:
        """Note progress; a timer thread writes it, so no caller ever waits for DynamoDB. After
        ``flush`` nothing more is noted: the session's final write carries the last figures."""
        with self._lock:
            if self._stopped.is_set():
                return
            self._pending = self._pending.merged_with(update)
            now = time.monotonic()
            first_segments = bool(update.segments) and not self._segments_noted
            self._segments_noted = self._segments_noted or bool(update.segments)
            if first_segments and self._timer is not None and self._timer_due > now:
                self._timer.cancel()  # a fired timer still writes: the newest figures, or nothing
                self._timer = None
            if self._timer is None:
                wait = 0.0 if first_segments else max(0.0, self._last_write + self.interval - now)
                self._timer_due = now + wait
                self._timer = threading.Timer(wait, self._write_when_due)
                self._timer.daemon = True
                self._timer.start()

    def raise_if_refused(self) -> None:
        if self.refused is not None:
            raise self.refused

    def flush(self) -> None:
        """Write what is pending now and stop the heartbeat (before the session's final transition)."""
        self._stopped.set()
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        self._write()

    def _write_when_due(self) -> None:
        with self._lock:
            self._timer = None
        self._write()

    def _write(self) -> None:
        with self._writing:
            with self._lock:
                update, self._pending = self._pending, SessionUpdate()
                if not update.changes():
                    return
                self._last_write = time.monotonic()
            self._send(update)

    def _send(self, update: SessionUpdate) -> None:
        try:
            self.sessions.record_progress(self.session_id, update)
        except TransitionRefused as refused:
            self.refused = refused
        except (ClientError, BotoCoreError) as error:
            logger.warning("progress not recorded: %s", error, extra={"session_id": self.session_id})
