"""The encoder's input on a thread of its own: each piece of speech is levelled and written to ffmpeg
while the engine makes the next.

On the speaking thread the leveller came between every two sentences, adding its time to the
engine's (about a tenth of the neural voice's; the README's Performance section). numpy and onnxruntime release the
GIL while they compute, so the engine and the leveller run on two cores. The queue is short: the
engine waits rather than running far ahead of ffmpeg, and a session that fails has little left to
write.
"""

from __future__ import annotations

import queue

from ..observability import logger
from ..workers import Worker
from .encoder import EncoderError, HlsEncoder
from .loudness import LoudnessLeveller

_DEPTH = 4  # pieces (sentences) waiting, at most
_WAKE_SECONDS = 0.1  # how often a speaker waiting on a full queue looks whether the writer has failed
# ffmpeg takes a sentence in milliseconds; one that has taken nothing for this long is stuck, and is
# killed, so that the writer's blocked write fails and the session ends instead of hanging.
STALL_SECONDS = 30.0


class EncoderFeed(Worker):
    def __init__(
        self, encoder: HlsEncoder, leveller: LoudnessLeveller, name: str = "feed", stall_seconds: float = STALL_SECONDS
    ):
        super().__init__(name)
        self._encoder = encoder
        self._stall_seconds = stall_seconds
        self._leveller = leveller
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=_DEPTH)  # None: the end

    def finish_after_fault(self) -> None:
        """Write what was handed over, also when the speaker failed: the audio made before a fault
        stays playable (that fault is the one raised; a writer that failed too failed for it)."""
        try:
            self.finish()
        except Exception:
            logger.warning("the audio made before the fault could not all be written", exc_info=True)

    def put(self, pcm: bytes) -> None:
        """Hand a piece of 16-bit mono PCM over, in speaking order; raises what stopped the writer."""
        self._put(pcm)

    def discard_waiting(self) -> None:
        """Drop the pieces not yet taken by the writer (a cancel: what is encoded is published, no more)."""
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                return

    def finish(self) -> None:
        """Wait until every piece handed over is levelled and written to the encoder."""
        if self.alive:
            self._put(None)
            if not self.join(self._stall_seconds):
                self._stuck()
        self.raise_if_failed()

    def _put(self, item: bytes | None) -> None:
        waited = 0.0
        while True:
            self.raise_if_failed()
            try:
                self._queue.put(item, timeout=_WAKE_SECONDS)
                return
            except queue.Full:
                waited += _WAKE_SECONDS
                if waited >= self._stall_seconds:
                    self._stuck()

    def _stuck(self) -> None:
        self._encoder.kill()
        self.join()  # the blocked write fails at once
        raise EncoderError(f"ffmpeg took no audio for {self._stall_seconds:g} s")

    def work(self) -> None:
        while (pcm := self._queue.get()) is not None:
            self._encoder.write(self._leveller.level(pcm))
