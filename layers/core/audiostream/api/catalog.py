"""What this deployment offers, for pickers in a client: engines, their languages and voices, limits."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from ..config import Settings
from ..observability import logger
from ..speech.engines import TtsError, default_engine, get_engine, offered_engines


def describe_engines(settings: Settings) -> dict[str, Any]:
    """Each usable engine with its languages, its voices and ``default_for``: the languages it speaks
    when a request names no engine (TTS_ENGINE's engines claim their languages best first)."""
    engines: list[dict[str, Any]] = []
    claimed: set[str] = set()
    usable: dict[str, tuple[Mapping[str, str], Collection[str]]] = {}
    for name in offered_engines(settings):
        engine = get_engine(name, settings)
        try:
            languages, voices = engine.languages(), engine.voices()
        except TtsError as error:
            logger.warning("engine %s is configured but not usable: %s", name, error)
            continue
        usable[name] = (languages, voices)
    default_for: dict[str, list[str]] = {name: [] for name in usable}
    for name in settings.speech.tts_engine:
        if name in usable:
            default_for[name] = sorted(set(usable[name][0]) - claimed)
            claimed |= set(usable[name][0])
    for name, (offered_languages, offered_voices) in usable.items():
        engines.append(
            {
                "name": name,
                "languages": [
                    {"code": code, "name": offered_languages[code]}
                    for code in sorted(offered_languages, key=offered_languages.__getitem__)
                ],
                "voices": sorted(offered_voices),
                "default_for": default_for[name],
            }
        )
    return {
        "default_engine": default_engine(settings.speech.default_lang, settings),
        "default_lang": settings.speech.default_lang,
        "max_text_chars": settings.limits.max_text_chars,
        "engines": engines,
    }
