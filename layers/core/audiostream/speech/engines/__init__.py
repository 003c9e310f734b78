"""TTS engines by name. Which ones a deployment offers is configuration (``TTS_ENGINES``); which one
speaks a request that names none is ``TTS_ENGINE``, best first, by language."""

from __future__ import annotations

from collections.abc import Callable

from ...config import Settings
from ...observability import logger
from .base import Speech, TtsEngine, TtsError
from .espeak import EspeakEngine
from .gtts import GttsEngine
from .hibari import HibariEngine
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
    "hibari": lambda s: HibariEngine(),
    "polly": lambda s: PollyEngine(s.speech.polly_engine, s.speech.polly_speech_marks),
}


def known_engines() -> frozenset[str]:
    return frozenset(ENGINE_FACTORIES)


def get_engine(name: str, settings: Settings) -> TtsEngine:
    try:
        factory = ENGINE_FACTORIES[name]
    except KeyError:
        raise TtsError(f"unknown TTS engine {name!r}") from None
    return factory(settings)


def offered_engines(settings: Settings) -> list[str]:
    return [name for name in settings.speech.tts_engines if name in ENGINE_FACTORIES]


def speaks(name: str, lang: str, settings: Settings) -> bool:
    """Whether engine ``name`` is usable here and speaks ``lang``."""
    try:
        return lang in get_engine(name, settings).languages()
    except TtsError:
        return False


def default_engine(lang: str, settings: Settings) -> str:
    """The engine of a request for ``lang`` that names none: the first of ``TTS_ENGINE`` that speaks it,
    else the first of them (whose refusal then names the language)."""
    preferred = [name for name in settings.speech.tts_engine if name in ENGINE_FACTORIES]
    return next((name for name in preferred if speaks(name, lang, settings)), preferred[0] if preferred else "")


def warm_engines(settings: Settings) -> None:
    """Load the models of the offered engines that have one, so that no session waits for it; an
    engine that is not usable here is left for a request to refuse."""
    for name in offered_engines(settings):
        try:
            get_engine(name, settings).warm()
        except TtsError as error:
            logger.info("engine %s not warmed: %s", name, error)


__all__ = [
    "ENGINE_FACTORIES",
    "Speech",
    "TtsEngine",
    "TtsError",
    "default_engine",
    "get_engine",
    "known_engines",
    "offered_engines",
    "speaks",
    "warm_engines",
]
