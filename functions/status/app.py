"""Read-only routes: GET /audiostream/task-status/<task_id>/ (a session's state and progress) and
GET /audiostream/engines/ (what start accepts)."""

import time

from aws_lambda_powertools.logging import correlation_paths
from fastapi import FastAPI, Response
from mangum import Mangum

from audiostream.api.catalog import describe_engines
from audiostream.api.errors import UnknownTask, error_responses, install_json_errors
from audiostream.api.models import Engines, Status
from audiostream.api.status import describe_status, stalled_reason
from audiostream.config import get_settings
from audiostream.observability import logger, session_log_context, tracer
from audiostream.store.content_cache import following
from audiostream.store.media_store import MediaStore
from audiostream.store.sessions import SessionStore, is_session_id

app = FastAPI(title="audiostream status", openapi_url=None, docs_url=None, redoc_url=None, redirect_slashes=False)
install_json_errors(app)
get_settings()  # a bad setting stops the cold start, naming the variable


@app.get(
    "/audiostream/task-status/{task_id}/",
    summary="A session's state and progress",
    response_model=Status,
    response_model_exclude_unset=True,
    responses=error_responses(404),
    response_description="The session.",
)
@app.get(
    "/audiostream/task-status/{task_id}",
    response_model=Status,
    response_model_exclude_unset=True,
    include_in_schema=False,
)
def task_status(task_id: str, response: Response) -> dict:
    if not is_session_id(task_id):
        raise UnknownTask(task_id)
    settings = get_settings()
    sessions = SessionStore.from_settings(settings)
    with session_log_context(task_id):
        session = sessions.get(task_id)
        if session is None:
            logger.info("status of an unknown session")
            raise UnknownTask(task_id)
        if session.media_of and not session.state.ended:  # served from the cache: its source speaks
            session = following(session, sessions.get(session.media_of))
        stalled = stalled_reason(
            session, time.time(), settings.timing.stall_seconds, settings.timing.pending_limit_seconds
        )
        response.headers["Cache-Control"] = "no-store"
        return describe_status(session, MediaStore.from_settings(settings), stalled)


@app.get(
    "/audiostream/engines/",
    summary="What start accepts",
    response_model=Engines,
    response_description="Engines, their languages and voices.",
)
@app.get("/audiostream/engines", response_model=Engines, include_in_schema=False)
def engines(response: Response) -> dict:
    """The engines, languages and voices start accepts, for the page's pickers."""
    response.headers["Cache-Control"] = "max-age=300"
    return describe_engines(get_settings())


asgi_handler = Mangum(app, lifespan="off")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
def handler(event: dict, context) -> dict:
    return asgi_handler(event, context)
