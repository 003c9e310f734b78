"""The seed-compatible task-status answer for a session."""

from __future__ import annotations

import dataclasses
from typing import Any

from ..media.hls import DOWNLOAD_NAME, MULTIVARIANT_NAME, SUBTITLES_PLAYLIST_NAME, TRANSCRIPT_NAME
from ..store.media_store import MediaStore
from ..store.sessions import Session, State

VERBATIM_NOTE = " (no language model is configured, so the prompt is spoken as written)"


def status_sentence(session: Session) -> str:
    note = VERBATIM_NOTE if session.spoken_as == "prompt" else ""
    if session.state is State.PENDING:
        return "Task is pending"
    if session.state is State.PROGRESS:
        if session.spoken_as == "llm":
            return f"Task is in progress: the language model is writing; {session.chunk_count} chunks spoken so far"
        return f"Task is in progress: {session.chunk_count} of {session.chunks_total or '?'} chunks spoken{note}"
    if session.state is State.SUCCESS:
        return f"Task completed successfully{note}"
    if session.state is State.REVOKED:
        return "Task was revoked"
    return f"Task failed: {session.error}"


def stalled_reason(session: Session, now: float, stall_seconds: float, pending_limit_seconds: float) -> str | None:
    """Why a session that still looks alive is in fact dead, if it is. The generator writes a
    heartbeat while it runs, so silence means its invocation died without a word (the on-failure
    queue ends such sessions in AWS; this covers the case where even that did not happen)."""
    if session.state is State.PROGRESS and now - session.updated_at > stall_seconds:
        return f"stalled: the generator has given no sign of life for {now - session.updated_at:.0f} s"
    if session.state is State.PENDING and now - session.created_at > pending_limit_seconds:
        return f"stalled: generation did not start within {pending_limit_seconds:.0f} s"
    return None


def describe_status(session: Session, media: MediaStore, stalled: str | None = None) -> dict[str, Any]:
    """The answer for ``session``; ``stalled`` (see stalled_reason) reports it as FAILURE."""
    if stalled is not None:
        session = dataclasses.replace(session, state=State.FAILURE, error=stalled)
    media_id = session.media_of or session.session_id  # a cached session plays another's files
    answer: dict[str, Any] = {
        "task_id": session.session_id,
        "session_id": session.session_id,
        "state": session.state.value,
        "status": status_sentence(session),
        "playlist": session.playlist,
        "engine": session.engine,
        "voice": session.voice,  # null: the engine's own default (espeak-ng's base voice for the language)
        "lang": session.lang,
        "cached": session.media_of is not None,  # served from the content cache
    }
    if session.captions:
        answer["master"] = media.playlist_url(media_id, MULTIVARIANT_NAME)
        answer["captions"] = media.playlist_url(media_id, SUBTITLES_PLAYLIST_NAME)
        # null until the session ends: the WebVTT segments hold the same cues while it runs.
        answer["transcript"] = media.url(media_id, TRANSCRIPT_NAME) if session.transcript else None
    if session.state is not State.PENDING:
        answer.update(
            event="chunk",
            chunk_count=session.chunk_count,
            chunks_total=session.chunks_total,
            segments=session.segments,
            duration=session.duration,
            first_segment_at=session.first_segment_at,
            progress=session.progress,
            spoken_as=session.spoken_as,
            spoken_text=session.spoken_text,
        )
    if session.download:
        answer["download"] = media.url(media_id, DOWNLOAD_NAME)
    if session.state is State.SUCCESS:
        answer["result"] = {"playlist": session.playlist}
        if session.download:
            answer["result"]["download"] = answer["download"]
        if session.captions:
            answer["result"].update(master=answer["master"], transcript=answer["transcript"])
    if session.state is State.FAILURE:
        answer["error"] = session.error or "unknown error"
    return answer
