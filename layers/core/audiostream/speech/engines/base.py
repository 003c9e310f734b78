"""What every TTS engine offers: text in, 16-bit mono PCM at the engine's sample rate out.

Engines subclass ``TtsEngine`` to inherit its defaults: an engine that makes a whole chunk at once
implements ``synthesize``; one that makes speech sentence by sentence also overrides ``stream``, so
that the encoder gets the first sentence while the next is being made. An engine that knows where its
sentences and words begin in the audio says so in ``Speech.sentences`` and ``Speech.words``, which
times the captions exactly.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Protocol

from ...errors import PublicError


@cache
def package_version(name: str) -> str | None:
    """An installed package's version, read once per process (every cacheable start asks); None if
    it is not installed."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


@dataclass(frozen=True)
class Mark:
    """A sentence or word of a piece of speech, and where the engine says it begins in the piece."""

    sample: int  # samples into the piece's PCM
    text: str


@dataclass(frozen=True)
class Speech:
    """A piece of an engine's speech: 16-bit mono PCM, with the sentences and words it speaks where
    the engine knows them, in order (none: the piece speaks the chunk, and captions share its time
    among the chunk's sentences)."""

    pcm: bytes
    sentences: tuple[Mark, ...] = ()
    words: tuple[Mark, ...] = ()


class TtsError(PublicError):
    """Synthesis failed (a public message: see ``audiostream.errors``)."""


class TtsEngine(Protocol):
    name: str
    sample_rate: int

    def languages(self) -> Mapping[str, str]:
        """Language codes this engine accepts (lower case), each with a name for people."""
        ...

    def voices(self) -> frozenset[str]:
        """Values this engine accepts as ``voice`` (engine-specific: a variant, an accent)."""
        ...

    def version(self) -> str:
        """What changes this engine's sound from one release to the next (the content cache's key)."""
        return ""

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
        return None  # a body, so that engines without a model need not write one
