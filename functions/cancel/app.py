"""POST /audiostream/cancel/<task_id>/: the session becomes REVOKED at once; generate stops within a second.

202 with the status body; 409 JSON naming the state for a session that has already ended; 404 JSON
for an unknown or malformed id. Whoever knows the id may cancel (the id is the capability, SECURITY.md).
"""

from aws_lambda_powertools.logging import correlation_paths
from fastapi import FastAPI, Response
from mangum import Mangum

from audiostream.api.cancel import cancel_session
from audiostream.api.errors import UnknownTask, error_responses, install_json_errors
from audiostream.api.models import AlreadyEndedBody, Status
from audiostream.api.status import describe_status
from audiostream.config import get_settings
from audiostream.observability import logger, session_log_context, tracer
from audiostream.store.media_store import MediaStore
from audiostream.store.sessions import SessionStore, is_session_id

app = FastAPI(title="audiostream cancel", openapi_url=None, docs_url=None, redoc_url=None, redirect_slashes=False)
install_json_errors(app)
get_settings()  # a bad setting stops the cold start, naming the variable


@app.post(
    "/audiostream/cancel/{task_id}/",
    summary="Stop a session",
    description=(
        'The session becomes REVOKED at once ("Task was revoked"); generation stops within a second, publishes '
        "what it had encoded and closes every playlist with #EXT-X-ENDLIST, so the audio made so far stays "
        "playable. Anyone who knows the id may cancel (the id is the capability)."
    ),
    status_code=202,
    response_model=Status,
    response_model_exclude_unset=True,
    responses={**error_responses(404), 409: {"model": AlreadyEndedBody, "description": AlreadyEndedBody.__doc__}},
    response_description="Cancelled; the session's status (REVOKED).",
)
@app.post(
    "/audiostream/cancel/{task_id}",
    status_code=202,
    response_model=Status,
    response_model_exclude_unset=True,
    include_in_schema=False,
)
def cancel(task_id: str, response: Response) -> dict:
    if not is_session_id(task_id):
        raise UnknownTask(task_id)
    settings = get_settings()
    media = MediaStore.from_settings(settings)
    with session_log_context(task_id):
        session = cancel_session(task_id, settings, SessionStore.from_settings(settings), media)
        response.headers["Cache-Control"] = "no-store"
        return describe_status(session, media)


asgi_handler = Mangum(app, lifespan="off")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
def handler(event: dict, context) -> dict:
    return asgi_handler(event, context)
