"""The body of ``POST /audiostream/start/``, checked field by field, each refusal naming its field."""

from __future__ import annotations

import json
from dataclasses import dataclass

from pydantic import ValidationError

from ..config import Settings
from ..errors import PublicError
from ..speech.chunking import has_speakable
from ..speech.engines import TtsError, default_engine, get_engine, offered_engines
from .models import StartBody


class InvalidRequest(PublicError):
    status = 400

    def __init__(self, field: str, message: str, status: int = 400):
        super().__init__(message, field=field, status=status)


# Control characters other than tab and line breaks become spaces: a NUL ends the text that espeak-ng
# reads (a C string), and the words the status reports must be the words that were spoken.
_CONTROLS_AS_SPACES = {code: " " for code in (*range(0x00, 0x20), *range(0x7F, 0xA0)) if chr(code) not in "\t\n\r"}


@dataclass(frozen=True)
class StartRequest:
    text: str
    """What will be spoken: ``text`` when given, else the prompt (control characters made spaces)."""
    text_given: bool
    lang: str
    engine: str
    voice: str | None
    language_name: str = ""  # for people: names the captions in a player's menu
    cache: bool | None = None  # False: generate anew; True: cache a prompt a model expands; None: the default


def _unicode(field: str, value: str | None) -> str | None:
    if value is not None:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidRequest(field, f"{field} is not valid Unicode text (it contains a lone surrogate)") from None
    return value


def _words(field: str, value: str | None) -> str | None:
    checked = _unicode(field, value)
    return checked.translate(_CONTROLS_AS_SPACES) if checked is not None else None


def _refusal(invalid: ValidationError) -> InvalidRequest:
    """The first field the model refused, named as today's answers name it."""
    field = str(invalid.errors()[0]["loc"][0])
    if field == "cache":
        return InvalidRequest(field, "cache must be true or false")
    return InvalidRequest(field, f"{field} must be a string")


def parse_start_request(body: bytes, settings: Settings) -> StartRequest:
    if len(body) > settings.limits.max_body_bytes:
        raise InvalidRequest(
            "body", f"the request body is {len(body)} bytes; the limit is {settings.limits.max_body_bytes}", 413
        )
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequest("body", "the request body is not valid JSON") from None
    except RecursionError:
        raise InvalidRequest("body", "the request body is nested too deeply") from None
    if not isinstance(data, dict):
        raise InvalidRequest("body", "the request body must be a JSON object")
    try:
        body_fields = StartBody.model_validate(data)
    except ValidationError as invalid:
        raise _refusal(invalid) from None

    prompt, text = _words("prompt", body_fields.prompt), _words("text", body_fields.text)
    if text is not None and not text.strip():
        raise InvalidRequest("text", "text must not be blank")
    if not text and not (prompt and prompt.strip()):
        raise InvalidRequest("prompt", "prompt (or text) is required and must not be blank")
    for field, value in (("text", text), ("prompt", prompt)):
        if value and len(value) > settings.limits.max_text_chars:
            raise InvalidRequest(
                field, f"{field} is {len(value)} characters long; the limit is {settings.limits.max_text_chars}"
            )

    spoken_field, spoken = ("text", text) if text else ("prompt", prompt or "")
    if not has_speakable(spoken):
        raise InvalidRequest(spoken_field, f"{spoken_field} has nothing to speak (no letters or digits)")

    lang = (_unicode("lang", body_fields.lang) or settings.speech.default_lang).strip().lower()
    engine_name = _unicode("engine", body_fields.engine) or default_engine(lang, settings)
    if engine_name not in offered_engines(settings):
        offered = ", ".join(offered_engines(settings))
        raise InvalidRequest("engine", f"unknown engine {engine_name!r}; this service offers: {offered}")

    engine = get_engine(engine_name, settings)
    try:
        languages, voices = engine.languages(), engine.voices()
    except TtsError as error:
        raise InvalidRequest("engine", f"engine {engine_name!r} is not available here: {error}", 422) from None
    if lang not in languages:
        raise InvalidRequest("lang", f"language {lang!r} is not supported by engine {engine_name!r}")

    voice = _unicode("voice", body_fields.voice) or None
    if voice is not None and voice not in voices:
        raise InvalidRequest("voice", f"voice {voice[:64]!r} is not one of engine {engine_name!r}'s voices")
    try:
        voice = voice or engine.default_voice(lang)  # stored, so that the status names the voice that spoke
    except TtsError as error:
        raise InvalidRequest("voice", f"engine {engine_name!r} has no voice for {lang!r}: {error}", 422) from None

    return StartRequest(
        cache=body_fields.cache,
        text=spoken,
        text_given=bool(text),
        lang=lang,
        engine=engine_name,
        voice=voice,
        language_name=languages[lang],
    )
