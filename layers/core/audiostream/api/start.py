"""Starting a session: the PENDING item and empty playlists that load at once, then generate is invoked;
or, for words the content cache holds, a session that plays the stream already made or being made."""

from __future__ import annotations

from functools import partial
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .. import aws
from ..config import Settings
from ..errors import PublicError
from ..media.hls import MULTIVARIANT_NAME, media_playlists, render_multivariant, variant_bandwidth
from ..observability import logger, session_log_context, tracer
from ..speech.engines import TtsError, get_engine
from ..store.content_cache import ContentCache, Found, cache_key, following
from ..store.media_store import MediaStore
from ..store.sessions import Session, SessionStore, SessionUpdate, State, TransitionRefused, new_session_id
from .invoker import Invoker
from .start_request import StartRequest


class StartFailed(PublicError):
    """The session could not be handed to generate; it was ended as FAILURE (never left PENDING)."""

    status = 503

    def __init__(self) -> None:
        super().__init__(NOT_STARTED)
        self.headers = {"Retry-After": "1"}


NOT_STARTED = "generation could not be started; please try again"


def generate_event(session_id: str, text: str) -> dict[str, Any]:
    """What generate is invoked with: the words ride in the event, not in the session's item."""
    return {"session_id": session_id, "text": text}


@tracer.capture_method
def start_session(
    request: StartRequest, settings: Settings, sessions: SessionStore, media: MediaStore, invoker: Invoker
) -> Session:
    session_id = new_session_id()
    target, captions = settings.speech.target_duration, settings.speech.captions
    with session_log_context(session_id):
        found = _in_cache(request, session_id, settings, sessions)
        if found is not None:
            return _served_from_cache(session_id, request, found, captions, sessions, media)
        session = _new_session(session_id, request, playlist=media.playlist_url(session_id), captions=captions)
        playlists = media_playlists([], target, ended=False, captions=captions)
        if captions:
            bandwidth = variant_bandwidth(settings.speech.aac_bitrate)
            playlists.append(
                (MULTIVARIANT_NAME, render_multivariant(request.lang, request.language_name or request.lang, bandwidth))
            )
        # The item and the empty playlists do not depend on each other, only generate on all of them:
        # written side by side, they cost the start answer one request's time instead of four.
        created, *written = aws.side_by_side(
            lambda: sessions.create(session),
            *(partial(media.put_playlist, session_id, text, name) for name, text in playlists),
        )
        if created is not None:
            raise created  # no session exists; an empty playlist left behind expires with the media
        try:
            for error in written:
                if error is not None:
                    raise error
            invoker.invoke(generate_event(session_id, request.text))
        except Exception as error:
            logger.exception("the session could not be handed to generate")
            _end_unstarted(session_id, NOT_STARTED, target, captions, sessions, media)
            raise StartFailed() from error
        logger.info(
            "session started", extra={"engine": request.engine, "lang": request.lang, "chars": len(request.text)}
        )
    return session


def cacheable_key(request: StartRequest, settings: Settings) -> str | None:
    """The request's content-cache key; None when it must be generated anew: the request says
    ``"cache": false``, or a language model would write its words (not the same twice) and the
    request does not say ``"cache": true``."""
    if not settings.speech.content_cache or request.cache is False:
        return None
    expanded = not request.text_given and settings.llm.enabled
    if expanded and request.cache is not True:
        return None
    engine = get_engine(request.engine, settings)
    version = engine.version()
    return cache_key(request.text, request.engine, version, request.voice, request.lang, settings, expanded)


def _new_session(session_id: str, request: StartRequest, **fields: Any) -> Session:
    return Session(
        session_id=session_id,
        text_given=request.text_given,
        lang=request.lang,
        engine=request.engine,
        voice=request.voice,
        **fields,
    )


def _in_cache(request: StartRequest, session_id: str, settings: Settings, sessions: SessionStore) -> Found | None:
    """What the cache holds for the request, having claimed its key for ``session_id`` if nothing
    usable did. A cache that cannot be reached costs a generation, never the start."""
    try:
        key = cacheable_key(request, settings)
        return None if key is None else ContentCache(sessions).claim(key, session_id)
    except (ClientError, BotoCoreError, TtsError):
        logger.warning("the content cache could not be used; generating anew", exc_info=True)
        return None


def _served_from_cache(
    session_id: str, request: StartRequest, found: Found, captions: bool, sessions: SessionStore, media: MediaStore
) -> Session:
    """A session of its own (its id, its status, its cancel) that plays the cached stream: SUCCESS at
    once when that stream is whole, else following the session that is making it."""
    source = found.source
    session = _new_session(
        session_id,
        request,
        playlist=source.playlist if source else media.playlist_url(found.source_id),
        captions=source.captions if source else captions,
        media_of=found.source_id,
        expires_at=source.expires_at if source else 0,  # with the media it plays (0: the usual)
        state=State.PROGRESS,  # while the source is generating, its status speaks for this one
    )
    if source is not None and source.state is State.SUCCESS:
        session = following(session, source)  # SUCCESS, with the source's figures and files
    sessions.create(session)
    logger.info(
        "session served from the content cache",
        extra={"source": found.source_id, "state": session.state.value, "chars": len(request.text)},
    )
    return session


def _end_unstarted(
    session_id: str, reason: str, target: int, captions: bool, sessions: SessionStore, media: MediaStore
) -> None:
    """FAILURE, but only from PENDING: an invoke that failed late may still have reached generate."""
    try:
        sessions.transition(session_id, State.FAILURE, SessionUpdate(error=reason), only_from=State.PENDING)
    except TransitionRefused:
        logger.warning("generate claimed the session after all; leaving it to generate")
        return
    try:
        media.put_closed_empty_playlists(session_id, target, captions)
    except Exception:
        logger.exception("could not close the playlist of a session that never started")


def start_answer(session: Session, settings: Settings) -> dict[str, Any]:
    answer = {
        "session_id": session.session_id,
        "task_id": session.session_id,
        "playlist": session.playlist,
        "status_url": f"/audiostream/task-status/{session.session_id}/",
        "cached": session.media_of is not None,
    }
    if session.captions or (session.media_of is None and settings.speech.captions):
        media_id = session.media_of or session.session_id
        answer["master"] = MediaStore.from_settings(settings).playlist_url(media_id, MULTIVARIANT_NAME)
    return answer
