"""A language model's chunks, read on a thread of their own and packed when the voice is ready.

Spoken one by one, a model's sentences would each be an engine run (an upstream request, for gTTS or
Polly): "Hi. " x 750 made 750. Reading ahead while the voice speaks lets the next chunk take every
sentence that has arrived meanwhile, up to the chunk size, without waiting for any that has not:
packing never delays the first word.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator

_END = object()
_LOOK_SECONDS = 0.05  # how often a speaker waiting for the model calls ``interrupt``


class ReadAhead:
    def __init__(self, chunks: Iterable[str], name: str = "read-ahead"):
        self._chunks = chunks
        self._queue: queue.Queue = queue.Queue()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._read, name=name, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for chunk in self._chunks:
                if self._stopped.is_set():
                    return
                self._queue.put(chunk)
        except BaseException as error:  # handed to the speaker, who raises it in its own thread
            self._queue.put(error)
        self._queue.put(_END)

    def packed(self, max_chars: int, interrupt: Callable[[], None] = lambda: None) -> Iterator[str]:
        """The chunks in order, each joined with those already waiting behind it, up to ``max_chars``;
        the first stays alone, as short as the chunker made it, so that the voice starts early.
        While it waits for the model, ``interrupt`` is called every few hundredths of a second: what it
        raises (a cancel) ends the wait."""
        waiting: list = []
        first = True
        while True:
            item = waiting.pop(0) if waiting else self._next(interrupt)
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            packed = item
            while not first:
                try:
                    following = self._queue.get_nowait()
                except queue.Empty:
                    break
                if isinstance(following, str) and len(packed) + 1 + len(following) <= max_chars:
                    packed = f"{packed} {following}"
                else:
                    waiting.append(following)
                    break
            first = False
            yield packed

    def _next(self, interrupt: Callable[[], None]) -> object:
        while True:
            try:
                return self._queue.get(timeout=_LOOK_SECONDS)
            except queue.Empty:
                interrupt()

    def stop(self) -> None:
        """Read no further (the thread ends at the next chunk the source gives)."""
        self._stopped.set()
