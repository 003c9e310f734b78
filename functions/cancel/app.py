"""POST /audiostream/cancel/<task_id>/: the session becomes REVOKED at once; generate stops within a second.

202 with the status body; 409 JSON naming the state for a session that has already ended; 404 JSON
for an unknown or malformed id. Whoever knows the id may cancel (the id is the capability, SECURITY.md).
"""

from aws_lambda_powertools.logging import correlation_paths
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from mangum import Mangum

from audiostream.api.cancel import cancel_session
from audiostream.api.errors import UnknownTask, install_json_errors
from audiostream.api.status import describe_status
from audiostream.config import get_settings
from audiostream.observability import logger, session_log_context, tracer
from audiostream.store.media_store import MediaStore
from audiostream.store.sessions import SessionStore, is_session_id

app = FastAPI(title="audiostream cancel", openapi_url=None, docs_url=None, redoc_url=None, redirect_slashes=False)
install_json_errors(app)
get_settings()  # a bad setting stops the cold start, naming the variable


@app.post("/audiostream/cancel/{task_id}/")
@app.post("/audiostream/cancel/{task_id}")
async def cancel(task_id: str) -> JSONResponse:
    if not is_session_id(task_id):
        raise UnknownTask(task_id)
    settings = get_settings()
    media = MediaStore.from_settings(settings)
    with session_log_context(task_id):
        session = cancel_session(task_id, settings, SessionStore.from_settings(settings), media)
        return JSONResponse(describe_status(session, media), status_code=202, headers={"Cache-Control": "no-store"})


asgi_handler = Mangum(app, lifespan="off")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
def handler(event: dict, context) -> dict:
    return asgi_handler(event, context)
