"""POST /audiostream/start/: check the request, record the session, hand it to generate, answer 202."""

from aws_lambda_powertools.logging import correlation_paths
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from mangum import Mangum

from audiostream.api.errors import install_json_errors
from audiostream.api.invoker import get_invoker
from audiostream.api.start import start_answer, start_session
from audiostream.api.start_request import parse_start_request
from audiostream.config import get_settings
from audiostream.observability import logger, tracer
from audiostream.store.media_store import MediaStore
from audiostream.store.sessions import SessionStore

app = FastAPI(title="audiostream start", openapi_url=None, docs_url=None, redoc_url=None, redirect_slashes=False)
install_json_errors(app)
get_settings()  # a bad setting stops the cold start, naming the variable


# Lambda serves one request per instance at a time, so the blocking AWS calls below hold up nobody.
@app.post("/audiostream/start/")
@app.post("/audiostream/start")
async def start(request: Request) -> JSONResponse:
    settings = get_settings()
    start_request = parse_start_request(await request.body(), settings)
    session = start_session(
        start_request,
        settings,
        SessionStore.from_settings(settings),
        MediaStore.from_settings(settings),
        get_invoker(settings),
    )
    return JSONResponse(start_answer(session, settings), status_code=202)


asgi_handler = Mangum(app, lifespan="off")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
def handler(event: dict, context) -> dict:
    return asgi_handler(event, context)
