"""What the generate function does with one (possibly repeated) async event."""

from __future__ import annotations

import time

from ..config import get_settings
from ..observability import logger, session_log_context
from ..store.media_store import MediaStore
from ..store.sessions import SessionStore, is_session_id
from .session_run import SessionRun


def generate(event: object, remaining_seconds: float | None = None) -> dict[str, str]:
    """Claim the session and run it. A duplicate delivery finds it claimed and touches nothing.
    ``remaining_seconds`` is what the invocation has left (Lambda's context tells it)."""
    payload = event if isinstance(event, dict) else {}  # an event of another shape is rejected below
    session_id = payload.get("session_id")
    if not isinstance(session_id, str) or not is_session_id(session_id):
        # Retrying a malformed event cannot help, so it is dropped with a log line, not raised.
        logger.error("generate event without a valid session_id: %r", event)
        return {"outcome": "rejected", "reason": "no valid session_id in the event"}
    settings = get_settings()
    sessions = SessionStore.from_settings(settings)
    with session_log_context(session_id):
        session = sessions.claim(session_id)
        if session is None:
            logger.info("session is not PENDING (a duplicate delivery or an unknown id): nothing to do")
            return {"session_id": session_id, "outcome": "skipped"}
        text = payload.get("text")
        if not isinstance(text, str):
            # Claimed all the same, so that the session ends as FAILURE (nothing to speak) at once.
            logger.error("generate event without its text")
            text = ""
        deadline = None
        if remaining_seconds is not None:
            deadline = time.monotonic() + remaining_seconds - settings.timing.finish_margin_seconds
        state = SessionRun(session, text, settings, sessions, MediaStore.from_settings(settings), deadline).run()
        return {"session_id": session_id, "outcome": state.value}
