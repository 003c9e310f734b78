"""GET /audiostream/task-status/<task_id>/: the session's state and progress, read-only."""

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from aws_lambda_powertools.logging import correlation_paths
from mangum import Mangum

from audiostream.config import get_settings
from audiostream.observability import logger, tracer
from audiostream.http_errors import error_response, install_json_errors
from audiostream.sessions import SessionStore, is_session_id
from audiostream.status import describe_status

app = FastAPI(title="audiostream status", openapi_url=None, docs_url=None, redoc_url=None)
install_json_errors(app)


@app.get("/audiostream/task-status/{task_id}/")
@app.get("/audiostream/task-status/{task_id}")
async def task_status(task_id: str) -> JSONResponse:
    session = SessionStore.from_settings(get_settings()).get(task_id) if is_session_id(task_id) else None
    if session is None:
        return error_response(404, f"no task with id {task_id[:64]!r}", "task_id")
    return JSONResponse(describe_status(session), headers={"Cache-Control": "no-store"})


asgi_handler = Mangum(app, lifespan="off")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
def handler(event: dict, context) -> dict:
    return asgi_handler(event, context)
