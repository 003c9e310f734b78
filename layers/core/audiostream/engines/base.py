"""What every TTS engine offers: text in, 16-bit mono PCM at the engine's sample rate out.

Engines subclass ``TtsEngine`` to inherit its defaults: an engine that makes a whole chunk at once
implements ``synthesize``; one that makes speech sentence by sentence also overrides ``stream``, so
that the encoder gets the first sentence while the next is being made, and names each piece's
sentence, which times the captions exactly.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Speech:
    """A piece of an engine's speech: 16-bit mono PCM, and the one sentence it speaks when the engine
    made that sentence alone (None: the piece speaks the chunk, or its share of it)."""

    pcm: bytes
    sentence: str | None = None


class TtsError(Exception):
    """Synthesis failed. The message is public (it ends up in the session's ``error``): it says what
    failed in words a user understands, never a URL, a path or a provider's own message; those go to
    the log, under the session id, where the error is raised."""


class TtsEngine(Protocol):
    name: str
    sample_rate: int

    def languages(self) -> Mapping[str, str]:
        """Language codes this engine accepts (lower case), each with a name for people."""
        ...

    def voices(self) -> frozenset[str]:
        """Values this engine accepts as ``voice`` (engine-specific: a variant, an accent)."""
        ...

    def default_voice(self, lang: str) -> str | None:
        """The voice that speaks ``lang`` when a request names none (None: the engine's own default)."""
        return None

    def synthesize(self, text: str, lang: str, voice: str | None) -> bytes:
        """Signed 16-bit little-endian mono PCM of ``text`` spoken in ``lang``."""
        ...

    def stream(self, text: str, lang: str, voice: str | None) -> Iterator[Speech]:
        """The speech of ``text`` in pieces, each yielded as soon as it is made."""
        yield Speech(self.synthesize(text, lang, voice))

    def warm(self) -> None:
        """Load now what the first request would otherwise wait for (a model); called at a cold start."""
