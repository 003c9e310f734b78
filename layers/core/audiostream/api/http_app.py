"""What every HTTP function's app shares: FastAPI set up as API Gateway serves it, each error
answered as JSON, the settings checked at cold start, and the Lambda handler around the app."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from fastapi import FastAPI
from mangum import Mangum

from ..config import get_settings
from ..observability import logger, tracer
from ..store.sessions import is_session_id
from .errors import UnknownTask, install_json_errors

Endpoint = Callable[..., Any]


def http_app(title: str) -> FastAPI:
    """An app whose paths are API Gateway's (no redirects between /x and /x/), with no docs routes:
    its description is openapi.yaml (scripts/openapi.py)."""
    app = FastAPI(title=title, openapi_url=None, docs_url=None, redoc_url=None, redirect_slashes=False)
    install_json_errors(app)
    get_settings()  # a bad setting stops the cold start, naming the variable
    return app


def route(
    register: Callable[..., Callable[[Endpoint], Endpoint]], path: str, **options: Any
) -> Callable[[Endpoint], Endpoint]:
    """The route at ``path`` and at ``path`` without its last slash (API Gateway routes both); only
    the first is described. ``register`` is the app's ``get`` or ``post``."""
    options.setdefault("response_model_exclude_unset", True)

    def registered(endpoint: Endpoint) -> Endpoint:
        register(path, **options)(endpoint)
        register(path.rstrip("/"), **{**options, "include_in_schema": False})(endpoint)
        return endpoint

    return registered


def known_task_id(task_id: str) -> str:
    """``task_id`` if it can name a session; else the 404 an unknown id gets."""
    if not is_session_id(task_id):
        raise UnknownTask(task_id)
    return task_id


def lambda_handler(app: FastAPI) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The function's handler: API Gateway's payload 2.0 events through Mangum, logged with the
    request's correlation id and traced."""
    asgi_handler = Mangum(app, lifespan="off")

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
    @tracer.capture_lambda_handler
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        answer: dict[str, Any] = asgi_handler(event, context)
        return answer

    return handler
