"""Ending the sessions whose generate invocation died (timeout, crash, out of memory) or never ran
(it waited in Lambda's async queue longer than its maximum event age).

Lambda sends a record of each such invocation to the on-failure destination, an SQS queue that the
failed_generations function drains. Each record ends its session as FAILURE, after closing its playlist
with ``#EXT-X-ENDLIST`` over the segments it already names (all uploaded, by the publishing rule).
"""

from __future__ import annotations

from typing import Any

from ..config import get_settings
from ..media.hls import close_playlist, media_playlists
from ..observability import MetricUnit, emit_metric, logger, session_log_context
from ..store.media_store import MediaStore
from ..store.sessions import SessionStore, SessionUpdate, State, TransitionRefused, is_session_id


def failure_reason(record: dict[str, Any]) -> str:
    """The public sentence for a failed invocation; Lambda's own message (request ids, an exception's
    text) is logged, not shown."""
    condition = (record.get("requestContext") or {}).get("condition")
    if condition == "EventAgeExceeded":
        return "generation did not start in time: the service was too busy; please try again"
    response = record.get("responsePayload") or {}
    message = response.get("errorMessage", "") if isinstance(response, dict) else ""
    if "Task timed out" in str(message):
        return "generation stopped unexpectedly: it reached the function's time limit (Task timed out)"
    kind = response.get("errorType") if isinstance(response, dict) else None
    return f"generation stopped unexpectedly: {kind or condition or 'the invocation failed'}"


def end_failed_invocation(record: dict[str, Any]) -> str:
    """End the session of one on-failure record; answers what was done."""
    session_id = (record.get("requestPayload") or {}).get("session_id")
    if not isinstance(session_id, str) or not is_session_id(session_id):
        logger.error("on-failure record without a valid session_id", extra={"record": record})
        return "dropped"
    settings = get_settings()
    sessions, media = SessionStore.from_settings(settings), MediaStore.from_settings(settings)
    with session_log_context(session_id):
        session = sessions.get(session_id)
        if session is None or session.state in (State.SUCCESS, State.FAILURE):
            return "already ended"
        # Each closed over what it names, all uploaded (the subtitle playlist may end a few captions
        # short of the audio's, written just before it).
        empty = media_playlists([], settings.speech.target_duration, ended=True, captions=settings.speech.captions)
        for name, text in empty:
            playlist = media.get_playlist(session_id, name)
            media.put_playlist(session_id, close_playlist(playlist) if playlist else text, name)
        if session.state is State.REVOKED:  # cancelled, then its invocation died before it closed them
            return "closed a cancelled session's playlists"
        reason = failure_reason(record)
        try:
            sessions.transition(session_id, State.FAILURE, SessionUpdate(error=reason))
        except TransitionRefused:
            return "already ended"
        logger.warning(
            "ended a session whose invocation failed",
            extra={
                "reason": reason,
                "context": record.get("requestContext"),
                "response": record.get("responsePayload"),
            },
        )
        emit_metric("SessionsFailed", MetricUnit.Count, 1)
        return "ended"
