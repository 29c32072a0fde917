"""Map the package's errors (and FastAPI's validation errors) to JSON responses, once."""

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.access import Unauthorized
from rag.errors import (
    ConfigError,
    EmbeddingFailed,
    EmptyIndex,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    RagError,
    RateLimited,
    StoreError,
    UnsupportedFile,
    UpstreamError,
    UpstreamTimeout,
)

log = logging.getLogger("api")

_STATUS: tuple[tuple[type[RagError], int, str], ...] = (
    (Unauthorized, 401, "unauthorized"),
    (NotFound, 404, "not found"),
    (PayloadTooLarge, 413, "payload too large"),
    (UnsupportedFile, 415, "unsupported file"),
    (InvalidInput, 422, "invalid input"),
    (EmptyIndex, 409, "no articles yet"),
    (RateLimited, 503, "model server busy"),
    (UpstreamTimeout, 504, "model server timeout"),
    (UpstreamError, 502, "upstream failure"),
    (StoreError, 503, "store unavailable"),
    (EmbeddingFailed, 503, "embedding failed"),
    (ConfigError, 500, "server misconfigured"),
)


def error_response(status: int, error: str, detail: object = None, headers: dict[str, str] | None = None) -> JSONResponse:
    """The one JSON error shape: {"error": ..., "detail": ...}."""
    return JSONResponse(status_code=status, content={"error": error, "detail": detail}, headers=headers)


def describe(exc: RagError) -> tuple[int, str, dict[str, str]]:
    """The status code, short label and extra headers (Retry-After) for one of the package's errors."""
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) and exc.retry_after else {}
    for kind, status, label in _STATUS:
        if isinstance(exc, kind):
            return status, label, headers
    return 500, "internal error", headers


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that turn every failure into a JSON body without a traceback."""

    @app.exception_handler(RagError)
    async def rag_error(_: Request, exc: RagError) -> JSONResponse:
        status, label, headers = describe(exc)
        return error_response(status, label, str(exc), headers)

    @app.exception_handler(RequestValidationError)
    @app.exception_handler(ValidationError)
    async def validation_error(_: Request, exc: RequestValidationError | ValidationError) -> JSONResponse:
        problems = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
            for e in exc.errors()
        ]
        return error_response(422, "invalid request", problems)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(exc.status_code, str(exc.detail).lower(), None)

    @app.exception_handler(RecursionError)
    async def too_deep(_: Request, exc: RecursionError) -> JSONResponse:
        return error_response(422, "invalid request", "the JSON is nested too deeply")

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return error_response(500, "internal error", "the server failed; the log has the details")
