"""The most audio one session may make, counted on the PCM fed to the encoder.

Characters are capped at start, but what a voice makes of them is not: a digit group becomes a
string of number words, and a CJK character read by a Latin voice becomes its name. The budget is
therefore counted in samples, and a chunk that would pass it is cut there, with a short fade so the
stream does not end in a click. The speech rate measured so far in the session says before
synthesis how much of the next chunk can still fit, so little is synthesised only to be thrown away.
"""

from __future__ import annotations

import sys
from array import array

from ..errors import PublicError

BYTES_PER_SAMPLE = 2  # 16-bit mono
FADE_SECONDS = 0.02
# A chunk is trimmed before synthesis only when its estimate passes what is left by this much: the
# rate of one text is not the rate of the next, and trimming too much would end the stream early.
_ESTIMATE_MARGIN = 1.25


class AudioLimitReached(PublicError):
    """The session made as much audio as one session may."""


class AudioBudget:
    def __init__(self, seconds: float, sample_rate: int):
        self.seconds = seconds
        self.sample_rate = sample_rate
        self._limit = int(seconds * sample_rate)
        self._used = 0
        self._chars_spoken = 0

    @property
    def exhausted(self) -> bool:
        return self._used >= self._limit

    def chars_that_fit(self, text: str) -> int:
        """How many characters of ``text`` are likely to fit in what is left (all of them if unsure)."""
        if self._chars_spoken == 0 or self._used == 0:
            return len(text)
        samples_per_char = self._used / self._chars_spoken
        fit = int(_ESTIMATE_MARGIN * (self._limit - self._used) / samples_per_char)
        return max(1, min(len(text), fit))

    def reached(self) -> AudioLimitReached:
        return AudioLimitReached(
            f"stopped at the limit of {self.seconds:g} s of audio per session; the audio made so far is playable"
        )

    def take(self, pcm: bytes, chars: int) -> bytes:
        """The part of ``pcm`` (the audio of ``chars`` characters) that fits, faded out where it was cut."""
        samples = len(pcm) // BYTES_PER_SAMPLE
        room = max(0, self._limit - self._used)
        self._chars_spoken += chars
        if samples <= room:
            self._used += samples
            return pcm
        self._used += room
        return _faded_out(pcm[: room * BYTES_PER_SAMPLE], int(FADE_SECONDS * self.sample_rate))


def _faded_out(pcm: bytes, fade_samples: int) -> bytes:
    samples = array("h", pcm)
    if sys.byteorder == "big":
        samples.byteswap()
    fade = min(fade_samples, len(samples))
    start = len(samples) - fade
    for i in range(fade):
        samples[start + i] = int(samples[start + i] * (fade - i) / fade)
    if sys.byteorder == "big":
        samples.byteswap()
    return samples.tobytes()
