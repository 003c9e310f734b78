"""What this deployment offers, for pickers in a client: engines, their languages and voices, limits."""

from __future__ import annotations

from .config import Settings
from .engines import TtsError, get_engine, known_engines
from .observability import logger


def describe_engines(settings: Settings) -> dict:
    engines = []
    for name in settings.speech.tts_engines:
        if name not in known_engines():
            continue
        engine = get_engine(name, settings)
        try:
            languages, voices = engine.languages(), engine.voices()
        except TtsError as error:
            logger.warning("engine %s is configured but not usable: %s", name, error)
            continue
        engines.append(
            {
                "name": name,
                "languages": [
                    {"code": code, "name": languages[code]} for code in sorted(languages, key=languages.__getitem__)
                ],
                "voices": sorted(voices),
            }
        )
    return {
        "default_engine": settings.speech.tts_engine,
        "default_lang": settings.speech.default_lang,
        "max_text_chars": settings.limits.max_text_chars,
        "engines": engines,
    }
