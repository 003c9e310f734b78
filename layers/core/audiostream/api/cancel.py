"""Cancelling a session: REVOKED at once; generate stops within a second (revocation.py).

Anyone who knows the id may cancel, as anyone who knows it may read its status and media: the id is
the capability. A session still PENDING is never generated (the claim needs PENDING), so its empty
playlists are closed here; one in PROGRESS is closed by generate, over what it had encoded.
"""

from __future__ import annotations

from ..config import Settings
from ..errors import PublicError
from ..observability import logger
from ..store.media_store import MediaStore
from ..store.sessions import Session, SessionStore, State, TransitionRefused
from .errors import UnknownTask


class AlreadyEnded(PublicError):
    status = 409

    def __init__(self, session_id: str, state: State):
        super().__init__(f"the task has already ended: {state.value}")
        self.state = state
        self.details = {"state": state.value, "task_id": session_id}


def cancel_session(session_id: str, settings: Settings, sessions: SessionStore, media: MediaStore) -> Session:
    """REVOKED, from PENDING or PROGRESS; raises UnknownTask, or AlreadyEnded naming its state."""
    try:
        session = sessions.transition(session_id, State.REVOKED, only_from=State.PENDING)
    except TransitionRefused:
        pass
    else:
        logger.info("session cancelled before it started")
        media.put_closed_empty_playlists(session_id, settings.speech.target_duration, session.captions)
        return session
    try:
        session = sessions.transition(session_id, State.REVOKED, only_from=State.PROGRESS)
    except TransitionRefused:
        current = sessions.get(session_id)
        if current is None:
            raise UnknownTask(session_id) from None
        raise AlreadyEnded(session_id, current.state) from None
    logger.info("session cancelled while it was generated")
    return session
