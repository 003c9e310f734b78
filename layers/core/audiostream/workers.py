"""The threads of a session's run, on one small base: each is named, has one owner that starts it,
asks it to stop (``close``) and joins it, and hands an error raised in it to that owner one way
(``raise_if_failed``).

A ``Crew`` is that owner's list: it starts each worker and, when it closes, closes and joins them in
the reverse order of their start, so that nothing a run started outlives it unnoticed. A worker
that calls code which may hang (an engine making speech, a model's stream) makes each such call
inside ``foreign_call()``. One found inside such a call when it is closed is left behind at once,
named in the log and in ``Crew.left_behind``, rather than holding up the session's end: it makes no
further call, ends as soon as this one returns, and as a daemon keeps no process alive. Any other
worker is joined (for up to ``JOIN_SECONDS``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import TypeVar

from .observability import logger

JOIN_SECONDS = 10.0  # how long a crew waits for a worker once asked to stop


class Worker:
    """A thread with one owner. Subclasses implement ``work`` and return from it soon after
    ``stopping`` is set (or earlier, when their work is done)."""

    def __init__(self, name: str):
        self.name = name
        self.stopping = threading.Event()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        # Guards stopping against in_call, so that a closed worker enters no further foreign call.
        self._calls = threading.Lock()
        self.in_call = False

    def work(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        """Ask the worker to stop; it returns from ``work`` at its next look."""
        with self._calls:
            self.stopping.set()

    @contextmanager
    def foreign_call(self) -> Iterator[bool]:
        """Around a call that may hang; yields False (make no call) once the worker is closed."""
        with self._calls:
            if self.stopping.is_set():
                entered = False
            else:
                entered = self.in_call = True
        try:
            yield entered
        finally:
            with self._calls:
                self.in_call = False

    def busy_elsewhere(self) -> bool:
        """Closed while inside a foreign call: it ends when that call returns."""
        with self._calls:
            return self.stopping.is_set() and self.in_call

    def join(self, timeout: float | None = None) -> bool:
        """Wait until the thread has ended (or ``timeout``); answers whether it has."""
        if self._thread.ident is not None:
            self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def started(self) -> bool:
        return self._thread.ident is not None

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def raise_if_failed(self) -> None:
        """Raise, in the owner's thread, what ended the worker's."""
        if self.error is not None:
            raise self.error

    def _main(self) -> None:
        try:
            self.work()
        except BaseException as error:  # the owner raises it in its own thread
            self.error = error


class CallWorker(Worker):
    """A worker whose work is one call."""

    def __init__(self, name: str, call: Callable[[Worker], None]):
        super().__init__(name)
        self._call = call

    def work(self) -> None:
        self._call(self)


W = TypeVar("W", bound=Worker)


class Crew:
    """Every worker one run starts, stopped and joined together, newest first."""

    def __init__(self) -> None:
        self.workers: list[Worker] = []
        self.left_behind: list[str] = []
        self._stack = ExitStack()

    def start(self, worker: W) -> W:
        worker.start()
        self.workers.append(worker)
        self._stack.callback(self._stop, worker)
        return worker

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> Crew:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def alive(self) -> list[str]:
        return [worker.name for worker in self.workers if worker.alive]

    def _stop(self, worker: Worker) -> None:
        worker.close()
        if worker.busy_elsewhere() or not worker.join(JOIN_SECONDS):
            self.left_behind.append(worker.name)
            logger.warning(
                "a worker of the run is still busy after it was asked to stop", extra={"worker": worker.name}
            )
