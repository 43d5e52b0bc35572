"""Errors as JSON in OpenAI's shape, with the right status code and never a traceback.

Every error the server sends looks like OpenAI's, so OpenAI clients raise their usual
exceptions (``openai.NotFoundError``, ``openai.AuthenticationError``, ...)::

    {"error": {"message": "unknown model 'gpt-4'; ...", "type": "invalid_request_error",
               "code": "model_not_found", "param": "model"}}

Routes raise :class:`ApiError`; ragtune's own errors map by class (a bad config value
is 400, a missing index 409, an unreachable backend 503); anything else is logged with
its traceback on the server and answered with a bare JSON 500.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ragtune.errors import (
    BackendUnavailableError,
    ConfigError,
    DataError,
    IndexMissingError,
    LoadError,
    RagtuneError,
)
from ragtune.serve.batching import QueueFullError, QueueStoppedError

logger = logging.getLogger("ragtune.serve")

_TYPE_BY_STATUS = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    409: "conflict_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
    502: "api_error",
    503: "api_error",
}


class ApiError(Exception):
    """An error a route answers with: ``raise ApiError(404, "no document 'x'", code="document_not_found")``."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        error_type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.param = param
        self.error_type = error_type or _TYPE_BY_STATUS.get(status, "api_error")
        self.headers = headers


def error_body(
    message: str, error_type: str, code: str | None = None, param: str | None = None
) -> dict[str, Any]:
    """The JSON body of an error: ``{"error": {"message", "type", "code", "param"}}``."""
    return {"error": {"message": message, "type": error_type, "code": code, "param": param}}


def error_response(exc: ApiError) -> JSONResponse:
    return JSONResponse(
        error_body(exc.message, exc.error_type, exc.code, exc.param),
        status_code=exc.status,
        headers=exc.headers,
    )


def from_ragtune_error(exc: RagtuneError) -> ApiError:
    """The HTTP form of one of ragtune's own errors."""
    if isinstance(exc, IndexMissingError):
        return ApiError(409, str(exc), code="index_missing")
    if isinstance(exc, BackendUnavailableError):
        return ApiError(503, str(exc), code="backend_unavailable")
    if isinstance(exc, LoadError | DataError):
        return ApiError(422, str(exc), code="unreadable_document")
    if isinstance(exc, ConfigError):
        return ApiError(400, str(exc), code="invalid_value")
    if type(exc).__name__ == "GenerationError":  # ragtune.llm.base; not imported here (torch-free)
        return ApiError(502, str(exc), code="generation_failed")
    return ApiError(400, str(exc), code="ragtune_error")


def _validation_message(exc: RequestValidationError) -> tuple[str, str | None]:
    problems = []
    param = None
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            return (
                f"the request body is not valid JSON: {err.get('ctx', {}).get('error', err.get('msg'))}",
                None,
            )
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
        where = ".".join(loc) or "body"
        param = param or where
        problems.append(f"{where}: {err.get('msg')}")
    return "invalid request: " + "; ".join(problems), param


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error as OpenAI-style JSON (see the module docstring)."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RagtuneError)
    async def _ragtune_error(request: Request, exc: RagtuneError) -> JSONResponse:
        return error_response(from_ragtune_error(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        message, param = _validation_message(exc)
        return error_response(ApiError(400, message, code="invalid_request", param=param))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 404 and message == "Not Found":
            message = f"no route {request.method} {request.url.path}"
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code)
        return error_response(
            ApiError(
                exc.status_code,
                message,
                code=code,
                headers=dict(exc.headers) if exc.headers else None,
            )
        )

    @app.exception_handler(QueueFullError)
    async def _queue_full(request: Request, exc: QueueFullError) -> JSONResponse:
        return error_response(
            ApiError(
                429,
                f"server busy: {exc}; retry shortly",
                code="queue_full",
                headers={"Retry-After": "1"},
            )
        )

    @app.exception_handler(QueueStoppedError)
    async def _queue_stopped(request: Request, exc: QueueStoppedError) -> JSONResponse:
        return error_response(ApiError(503, str(exc), code="shutting_down"))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error in %s %s", request.method, request.url.path)
        return error_response(
            ApiError(
                500,
                "internal server error (details are in the server log)",
                code="internal_error",
                error_type="api_error",
            )
        )
