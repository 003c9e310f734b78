"""TTS engines by name. Which ones a deployment offers is configuration (``TTS_ENGINES``)."""

from __future__ import annotations

from collections.abc import Callable

from ..config import Settings
from .base import TtsEngine, TtsError
from .espeak import EspeakEngine
from .gtts import GttsEngine
from .polly import PollyEngine

EngineFactory = Callable[[Settings], TtsEngine]

# The engines by name; a deployment offers those that TTS_ENGINES names.
ENGINE_FACTORIES: dict[str, EngineFactory] = {
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


def known_engines() -> frozenset[str]:
    return frozenset(ENGINE_FACTORIES)


def get_engine(name: str, settings: Settings) -> TtsEngine:
    try:
        factory = ENGINE_FACTORIES[name]
    except KeyError:
        raise TtsError(f"unknown TTS engine {name!r}") from None
    return factory(settings)


__all__ = ["ENGINE_FACTORIES", "TtsEngine", "TtsError", "get_engine", "known_engines"]
