"""What every TTS engine offers: text in, 16-bit mono PCM at the engine's sample rate out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


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

    def synthesize(self, text: str, lang: str, voice: str | None) -> bytes:
        """Signed 16-bit little-endian mono PCM of ``text`` spoken in ``lang``."""
        ...
