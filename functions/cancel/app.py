"""POST /audiostream/cancel/<task_id>/: the session becomes REVOKED at once; generate stops within a second.

202 with the status body; 409 JSON naming the state for a session that has already ended; 404 JSON
for an unknown or malformed id. Whoever knows the id may cancel (the id is the capability, SECURITY.md).
"""

from typing import Any

from fastapi import Response

from audiostream.api.cancel import cancel_session
from audiostream.api.errors import error_responses
from audiostream.api.http_app import http_app, known_task_id, lambda_handler, route
from audiostream.api.models import AlreadyEndedBody, Status
from audiostream.api.status import describe_status
from audiostream.config import get_settings
from audiostream.observability import session_log_context
from audiostream.store.media_store import MediaStore
from audiostream.store.sessions import SessionStore

app = http_app("audiostream cancel")


@route(
    app.post,
    "/audiostream/cancel/{task_id}/",
    summary="Stop a session",
    description=(
        'The session becomes REVOKED at once ("Task was revoked"); generation stops within a second, publishes '
        "what it had encoded and closes every playlist with #EXT-X-ENDLIST, so the audio made so far stays "
        "playable. Anyone who knows the id may cancel (the id is the capability)."
    ),
    status_code=202,
    response_model=Status,
    response_description="Cancelled; the session's status (REVOKED).",
    responses={**error_responses(404), 409: {"model": AlreadyEndedBody, "description": AlreadyEndedBody.__doc__}},
)
def cancel(task_id: str, response: Response) -> dict[str, Any]:
    settings = get_settings()
    media = MediaStore.from_settings(settings)
    with session_log_context(known_task_id(task_id)):
        session = cancel_session(task_id, settings, SessionStore.from_settings(settings), media)
        response.headers["Cache-Control"] = "no-store"
        return describe_status(session, media)


handler = lambda_handler(app)
