"""A language model's chunks, read on a thread of their own and packed when the voice is ready.

Spoken one by one, a model's sentences would each be an engine run (an upstream request, for gTTS or
Polly): "Hi. " x 750 made 750. Reading ahead while the voice speaks lets the next chunk take every
sentence that has arrived meanwhile, up to the chunk size, without waiting for any that has not:
packing never delays the first word.
"""

from __future__ import annotations

import queue
from collections.abc import Callable, Iterable, Iterator

from ..workers import Worker

_LOOK_SECONDS = 0.05  # how often a speaker waiting for the model calls ``interrupt``


class ReadAhead(Worker):
    """Reads the model's stream, which may stall: each chunk is read inside ``foreign_call``."""

    def __init__(self, chunks: Iterable[str], name: str = "read-ahead"):
        super().__init__(name)
        self._chunks = chunks
        self._queue: queue.Queue[str | None] = queue.Queue()  # None: the model is done

    def work(self) -> None:
        """Read the model's chunks until it is done or the reader is closed (at the next chunk the
        source gives). A failure reaches the speaker once it has had every chunk before it."""
        chunks = iter(self._chunks)
        while True:
            with self.foreign_call() as calling:
                if not calling:
                    return
                chunk = next(chunks, None)
            if chunk is None:
                break
            self._queue.put(chunk)
        self._queue.put(None)

    def packed(self, max_chars: int, interrupt: Callable[[], None] = lambda: None) -> Iterator[str]:
        """The chunks in order, each joined with those already waiting behind it, up to ``max_chars``;
        the first stays alone, as short as the chunker made it, so that the voice starts early.
        While it waits for the model, ``interrupt`` is called every few hundredths of a second: what it
        raises (a cancel) ends the wait."""
        waiting: list[str | None] = []
        first = True
        while True:
            item = waiting.pop(0) if waiting else self._next(interrupt)
            if item is None:
                return
            packed = item
            while not first:
                try:
                    following = self._queue.get_nowait()
                except queue.Empty:
                    break
                if following is not None and len(packed) + 1 + len(following) <= max_chars:
                    packed = f"{packed} {following}"
                else:
                    waiting.append(following)
                    break
            first = False
            yield packed

    def _next(self, interrupt: Callable[[], None]) -> str | None:
        while True:
            try:
                return self._queue.get(timeout=_LOOK_SECONDS)
            except queue.Empty:
                # The error is set after the reader's last chunk was queued: raised once all is taken.
                if self._queue.empty():
                    self.raise_if_failed()
                interrupt()
