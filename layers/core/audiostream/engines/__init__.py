"""TTS engines by name. Which ones a deployment offers is configuration (``TTS_ENGINES``)."""

from __future__ import annotations

from collections.abc import Callable

from ..config import Settings
from .base import TtsEngine, TtsError
from .espeak import EspeakEngine
from .gtts import GttsEngine
from .polly import PollyEngine

EngineFactory = Callable[[Settings], TtsEngine]

_FACTORIES: dict[str, EngineFactory] = {
    "espeak": lambda s: EspeakEngine(s.speech.espeak_path, s.speech.tts_timeout_seconds),
    "gtts": lambda s: GttsEngine(
        s.speech.ffmpeg_path,
        s.speech.tts_timeout_seconds,
        s.speech.gtts_url,
        s.speech.gtts_retries,
        s.speech.gtts_backoff_seconds,
    ),
    "polly": lambda s: PollyEngine(s.speech.polly_engine),
}


def register_engine(name: str, factory: EngineFactory) -> None:
    """Add an engine (a deployment's own, or a test's fault-injecting wrapper)."""
    _FACTORIES[name] = factory


def known_engines() -> frozenset[str]:
    return frozenset(_FACTORIES)


def get_engine(name: str, settings: Settings) -> TtsEngine:
    try:
        factory = _FACTORIES[name]
    except KeyError:
        raise TtsError(f"unknown TTS engine {name!r}") from None
    return factory(settings)


__all__ = ["TtsEngine", "TtsError", "get_engine", "known_engines", "register_engine"]
