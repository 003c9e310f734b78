"""POST /audiostream/start/: check the request, record the session, hand it to generate, answer 202."""

from typing import Annotated, Any

from fastapi import Depends

from audiostream.api.errors import error_responses, request_body
from audiostream.api.http_app import http_app, lambda_handler, route
from audiostream.api.invoker import get_invoker
from audiostream.api.models import StartAnswer, StartBody
from audiostream.api.start import start_answer, start_session
from audiostream.api.start_request import parse_start_request
from audiostream.config import get_settings
from audiostream.store.media_store import MediaStore
from audiostream.store.sessions import SessionStore

app = http_app("audiostream start")

# The body is read as bytes and checked by parse_start_request (size first, then JSON, then each
# field against StartBody and the deployment's engines), so that every refusal names its field.
START_BODY = {"required": True, "content": {"application/json": {"schema": StartBody.model_json_schema()}}}


@route(
    app.post,
    "/audiostream/start/",
    summary="Start a session",
    status_code=202,
    response_model=StartAnswer,
    response_description="The session was recorded and handed to generate.",
    responses=error_responses(400, 413, 422, 429, 503),
    openapi_extra={"requestBody": START_BODY},
)
def start(body: Annotated[bytes, Depends(request_body)]) -> dict[str, Any]:
    settings = get_settings()
    session = start_session(
        parse_start_request(body, settings),
        settings,
        SessionStore.from_settings(settings),
        MediaStore.from_settings(settings),
        get_invoker(settings),
    )
    return start_answer(session, settings)


handler = lambda_handler(app)
