"""Read-only routes: GET /audiostream/task-status/<task_id>/ (a session's state and progress) and
GET /audiostream/engines/ (what start accepts)."""

import time
from typing import Any

from fastapi import Response

from audiostream.api.catalog import describe_engines
from audiostream.api.errors import UnknownTask, error_responses
from audiostream.api.http_app import http_app, known_task_id, lambda_handler, route
from audiostream.api.models import Engines, Status
from audiostream.api.status import describe_status, stalled_reason
from audiostream.config import get_settings
from audiostream.observability import logger, session_log_context
from audiostream.store.content_cache import following
from audiostream.store.media_store import MediaStore
from audiostream.store.sessions import SessionStore

app = http_app("audiostream status")


@route(
    app.get,
    "/audiostream/task-status/{task_id}/",
    summary="A session's state and progress",
    response_model=Status,
    response_description="The session.",
    responses=error_responses(404),
)
def task_status(task_id: str, response: Response) -> dict[str, Any]:
    settings = get_settings()
    sessions = SessionStore.from_settings(settings)
    with session_log_context(known_task_id(task_id)):
        session = sessions.get(task_id)
        if session is None:
            logger.info("status of an unknown session")
            raise UnknownTask(task_id)
        if session.media_of and not session.state.ended:  # served from the cache: its source speaks
            session = following(session, sessions.get(session.media_of))
        timing = settings.timing
        stalled = stalled_reason(session, time.time(), timing.stall_seconds, timing.pending_limit_seconds)
        response.headers["Cache-Control"] = "no-store"
        return describe_status(session, MediaStore.from_settings(settings), stalled)


@route(
    app.get,
    "/audiostream/engines/",
    summary="What start accepts",
    response_model=Engines,
    response_description="Engines, their languages and voices.",
)
def engines(response: Response) -> dict[str, Any]:
    """The engines, languages and voices start accepts, for the page's pickers."""
    response.headers["Cache-Control"] = "max-age=300"
    return describe_engines(get_settings())


handler = lambda_handler(app)
