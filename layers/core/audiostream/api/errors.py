"""Every error the HTTP functions answer is JSON: ``{"error": sentence, "field"?: name, ...}``.

A route raises a ``PublicError`` (or lets one rise from the package); ``install_json_errors`` maps
it, once per app, to its status, body and headers. Anything else is logged and answered 500 with a
generic sentence.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from ..errors import PublicError
from ..observability import logger
from .models import ErrorBody

_WHY = {
    400: "The request was refused; `field` names what is wrong, where one thing is.",
    404: "No session has this id.",
    413: "The request body is larger than the deployment's limit (MAX_BODY_BYTES).",
    422: "The engine or voice asked for cannot serve the request here.",
    503: "Generation could not be started; try again after Retry-After seconds.",
}
# API Gateway's own answer when a route's throttle is reached (the dev stack answers the same).
_THROTTLED = {
    "description": "Too many requests from this client; try again after Retry-After seconds.",
    "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}},
    "content": {
        "application/json": {
            "schema": {"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]}
        }
    },
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI description of a route's error answers."""
    return {
        status: _THROTTLED if status == 429 else {"model": ErrorBody, "description": _WHY[status]}
        for status in statuses
    }


async def request_body(request: Request) -> bytes:
    """The raw body, for a route that checks it itself and answers each refusal naming its field."""
    return await request.body()


class UnknownTask(PublicError):
    """No session has this id (or it is not an id at all)."""

    status = 404
    field = "task_id"

    def __init__(self, task_id: str):
        super().__init__(f"no task with id {task_id[:64]!r}")


def error_response(
    status: int,
    message: str,
    field: str | None = None,
    headers: dict[str, str] | None = None,
    details: dict[str, object] | None = None,
) -> JSONResponse:
    body: dict[str, object] = {"error": message}
    if field:
        body["field"] = field
    body.update(details or {})
    return JSONResponse(body, status_code=status, headers=headers or None)


def public_error_response(error: PublicError) -> JSONResponse:
    return error_response(error.status, error.message, error.field, error.headers, error.details)


def install_json_errors(app: FastAPI) -> None:
    @app.exception_handler(PublicError)
    async def public_error(request: Request, error: PublicError) -> JSONResponse:
        return public_error_response(error)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0] if error.errors() else {}
        location = [str(part) for part in first.get("loc", ()) if part not in ("body", "path", "query")]
        return error_response(422, str(first.get("msg", "the request is not valid")), location[0] if location else None)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        return error_response(error.status_code, str(error.detail), headers=getattr(error, "headers", None))

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, error: Exception) -> JSONResponse:
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal error; the service's logs have the details")
