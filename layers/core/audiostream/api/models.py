"""The HTTP contract as pydantic models: what each route takes and answers. ``openapi.yaml`` is
generated from the apps that use them (``scripts/openapi.py``), so the descriptions here are the
API's documentation."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..config import RequestLimits
from ..media.hls import DOWNLOAD_NAME, MULTIVARIANT_NAME, PLAYLIST_NAME, SUBTITLES_PLAYLIST_NAME, TRANSCRIPT_NAME

SESSION_ID = r"^[0-9a-f]{32}$"
MAX_TEXT_CHARS = RequestLimits.model_fields["max_text_chars"].default


def _media(name: str) -> str:
    return r"^/media/hls/[0-9a-f]{32}/" + name.replace(".", r"\.") + "$"


class StartBody(BaseModel):
    """prompt or text is required. lang, engine and voice must be among what GET /audiostream/engines/
    lists, which depends on the deployment."""

    # Strict: 42 is not the string "42", nor 1 the boolean true. Fields the contract does not name are ignored.
    model_config = ConfigDict(
        use_attribute_docstrings=True,
        strict=True,
        extra="ignore",
        json_schema_extra={"anyOf": [{"required": ["prompt"]}, {"required": ["text"]}]},
    )

    # The length limits are the deployment's (MAX_TEXT_CHARS), checked by parse_start_request; the
    # schema shows the default.
    prompt: str | None = Field(None, json_schema_extra={"maxLength": MAX_TEXT_CHARS})
    """Expanded by the language model when one is configured."""
    text: str | None = Field(None, json_schema_extra={"minLength": 1, "maxLength": MAX_TEXT_CHARS})
    """Spoken as written; wins over prompt. Must hold a letter or digit (in any script)."""
    lang: str | None = None
    """The language's code; empty or null: the deployment's default (en)."""
    engine: str | None = None
    """Empty or null: the best engine for lang (see default_for in GET /audiostream/engines/)."""
    voice: str | None = None
    """Empty or null: the engine's default."""
    cache: bool | None = None
    """The content cache. false: generate anew even if the same words were generated before. true: also cache a
    prompt a language model expands (its answer differs from run to run, so it is not cached by default).
    null or absent: the deployment's default."""


class _Described(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)


class ErrorBody(_Described):
    """The request was refused; ``field`` names what is wrong, where one thing is."""

    error: str = Field(min_length=1)
    field: str | None = None


class AlreadyEndedBody(_Described):
    """The session has already ended; its state is named."""

    error: str
    state: Literal["SUCCESS", "FAILURE", "REVOKED"]
    task_id: str


class StartAnswer(_Described):
    session_id: str = Field(pattern=SESSION_ID)
    task_id: str = Field(pattern=SESSION_ID)
    playlist: str = Field(pattern=_media(PLAYLIST_NAME))
    """The audio media playlist."""
    master: str | None = Field(None, pattern=_media(MULTIVARIANT_NAME))
    """The multivariant playlist: the audio (audio.m3u8) with its captions as a WebVTT subtitle rendition
    (subs.m3u8, one .vtt segment per audio segment), for any HLS player to show; present unless the
    deployment has CAPTIONS=false."""
    status_url: str
    cached: bool
    """Served from the content cache: the playlist (and master) are those of the session that made, or is
    making, the same words; no generation was started for this one."""


class StatusResult(_Described):
    playlist: str
    master: str | None = None
    """As the status's master."""
    transcript: str | None = None
    """As the status's transcript."""
    download: str | None = None
    """As the status's download."""


class Status(_Described):
    """A session's state and progress, in the shape the seed's Celery task status had."""

    task_id: str
    session_id: str
    state: Literal["PENDING", "PROGRESS", "SUCCESS", "FAILURE", "REVOKED"]
    status: str
    """The state in a sentence."""
    playlist: str
    engine: str
    """The engine that speaks the session."""
    voice: str | None
    """Its voice; null where the engine's own default speaks (espeak-ng's voice for the language)."""
    lang: str
    cached: bool
    """Served from the content cache (the stream is another session's; while that one is generating, this status
    follows its state and progress)."""
    master: str | None = Field(None, pattern=_media(MULTIVARIANT_NAME))
    """The multivariant playlist (audio and captions), as in the start answer; absent with CAPTIONS=false."""
    captions: str | None = Field(None, pattern=_media(SUBTITLES_PLAYLIST_NAME))
    """The captions' WebVTT media playlist (one segment subs_NNN.vtt per audio segment, sentence cues; words
    after the first carry WebVTT cue timestamps where the engine times its words); absent with
    CAPTIONS=false."""
    transcript: str | None = Field(None, pattern=_media(TRANSCRIPT_NAME))
    """transcript.json, written when the session ends (SUCCESS or FAILURE): {"sentences": [{"start", "end",
    "text", "words": [{"start", "end", "text"}]}]}, seconds into the stream; words empty where the engine
    does not time them. null until then (the WebVTT segments hold the same cues while it runs), and for a
    session ended by the failed-generations drain. Absent with CAPTIONS=false."""
    download: str | None = Field(None, pattern=_media(DOWNLOAD_NAME))
    """On SUCCESS: the whole stream as one progressive MP4 (AAC, moov before mdat, remuxed without re-encoding),
    served with Content-Disposition attachment."""
    event: Literal["chunk"] | None = None
    """Present once the session has left PENDING."""
    chunk_count: int | None = Field(None, ge=0)
    chunks_total: int | None = Field(None, ge=0)
    segments: int | None = Field(None, ge=0)
    duration: float | None = Field(None, ge=0)
    """Seconds of audio listed so far."""
    first_segment_at: float | None = None
    """When the playlist first named a segment (Unix time in seconds, the server's clock): the time to first
    segment is this less the moment the start was sent. Null until then, and for a session served from the
    content cache."""
    progress: int | None = Field(None, ge=0, le=100)
    spoken_as: str | None = None
    spoken_text: str | None = None
    """The words spoken, once the session has ended (empty while it runs: progress writes stay small whatever
    the text). Control characters of the request are spaces here, as spoken."""
    result: StatusResult | None = None
    """On SUCCESS."""
    error: str | None = None
    """On FAILURE: what failed, in words a user understands (for example "stopped at the limit of 600 s of audio
    per session; the audio made so far is playable"). Addresses, providers' messages and AWS error messages
    are logged under the session id, never shown here."""


class Language(_Described):
    code: str
    name: str


class Engine(_Described):
    name: str
    languages: list[Language]
    voices: list[str]
    default_for: list[str]
    """The languages this engine speaks when a request names no engine (the deployment's TTS_ENGINE, best first:
    English to the neural voice, the rest to espeak-ng, in the local stack)."""


class Engines(_Described):
    """What start accepts: engines, their languages and voices."""

    default_engine: str
    """The engine a request for default_lang gets when it names none."""
    default_lang: str
    max_text_chars: int
    engines: list[Engine]
