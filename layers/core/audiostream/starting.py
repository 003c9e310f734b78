"""Starting a session: the PENDING item and empty playlists that load at once, then generate is invoked."""

from __future__ import annotations

from functools import partial

from . import aws
from .config import Settings
from .hls import MULTIVARIANT_NAME, media_playlists, render_multivariant, variant_bandwidth
from .invoker import Invoker
from .observability import logger, session_log_context, tracer
from .sessions import Session, SessionStore, SessionUpdate, State, TransitionRefused, new_session_id
from .start_request import StartRequest
from .storage import MediaStore


class StartFailed(Exception):
    """The session could not be handed to generate; it was ended as FAILURE (never left PENDING)."""


def generate_event(session_id: str, text: str) -> dict:
    """What generate is invoked with: the words ride in the event, not in the session's item."""
    return {"session_id": session_id, "text": text}


@tracer.capture_method
def start_session(
    request: StartRequest, settings: Settings, sessions: SessionStore, media: MediaStore, invoker: Invoker
) -> Session:
    session_id = new_session_id()
    target, captions = settings.speech.target_duration, settings.speech.captions
    with session_log_context(session_id):
        session = Session(
            session_id=session_id,
            text_given=request.text_given,
            lang=request.lang,
            engine=request.engine,
            voice=request.voice,
            playlist=media.playlist_url(session_id),
            captions=captions,
        )
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
            _end_unstarted(
                session_id, "generation could not be started; please try again", target, captions, sessions, media
            )
            raise StartFailed(str(error)) from error
        logger.info(
            "session started", extra={"engine": request.engine, "lang": request.lang, "chars": len(request.text)}
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
        for name, text in media_playlists([], target, ended=True, captions=captions):
            media.put_playlist(session_id, text, name)
    except Exception:
        logger.exception("could not close the playlist of a session that never started")


def start_answer(session: Session, settings: Settings) -> dict:
    answer = {
        "session_id": session.session_id,
        "task_id": session.session_id,
        "playlist": session.playlist,
        "status_url": f"/audiostream/task-status/{session.session_id}/",
    }
    if settings.speech.captions:
        answer["master"] = MediaStore.from_settings(settings).playlist_url(session.session_id, MULTIVARIANT_NAME)
    return answer
