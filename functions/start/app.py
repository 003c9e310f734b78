"""POST /audiostream/start/: check the request, record the session, hand it to generate, answer 202."""

from typing import Annotated

from aws_lambda_powertools.logging import correlation_paths
from fastapi import Depends, FastAPI
from mangum import Mangum

from audiostream.api.errors import error_responses, install_json_errors, request_body
from audiostream.api.invoker import get_invoker
from audiostream.api.models import StartAnswer, StartBody
from audiostream.api.start import start_answer, start_session
from audiostream.api.start_request import parse_start_request
from audiostream.config import get_settings
from audiostream.observability import logger, tracer
from audiostream.store.media_store import MediaStore
from audiostream.store.sessions import SessionStore

app = FastAPI(title="audiostream start", openapi_url=None, docs_url=None, redoc_url=None, redirect_slashes=False)
install_json_errors(app)
get_settings()  # a bad setting stops the cold start, naming the variable

# The body is read as bytes and checked by parse_start_request (size first, then JSON, then each
# field against StartBody and the deployment's engines), so that every refusal names its field.
START_BODY = {
    "requestBody": {"required": True, "content": {"application/json": {"schema": StartBody.model_json_schema()}}}
}


@app.post(
    "/audiostream/start/",
    summary="Start a session",
    status_code=202,
    response_model=StartAnswer,
    response_model_exclude_unset=True,
    responses=error_responses(400, 413, 422, 429, 503),
    openapi_extra=START_BODY,
    response_description="The session was recorded and handed to generate.",
)
@app.post(
    "/audiostream/start",
    status_code=202,
    response_model=StartAnswer,
    response_model_exclude_unset=True,
    include_in_schema=False,
)
def start(body: Annotated[bytes, Depends(request_body)]) -> dict:
    settings = get_settings()
    session = start_session(
        parse_start_request(body, settings),
        settings,
        SessionStore.from_settings(settings),
        MediaStore.from_settings(settings),
        get_invoker(settings),
    )
    return start_answer(session, settings)


asgi_handler = Mangum(app, lifespan="off")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
def handler(event: dict, context) -> dict:
    return asgi_handler(event, context)
