"""API keys: RAG_API_KEY guards writes, RAG_READ_KEY (optional) guards reads; compared in constant time."""

import hmac
from collections.abc import Callable

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader

from rag.errors import RagError

API_KEY_HEADER = APIKeyHeader(name="X-API-Key", auto_error=False, description="The service's API key.")


class Unauthorized(RagError):
    """A request without the key its route needs (mapped to 401)."""


def key_matches(given: str | None, expected: str) -> bool:
    """Constant-time comparison of a presented key with the configured one."""
    return given is not None and hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8"))


def _presented(request: Request, header_key: str | None) -> str | None:
    """X-API-Key, or an OpenAI client's `Authorization: Bearer <key>`."""
    if header_key:
        return header_key
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def requires(*keys: str | None) -> Callable[..., None]:
    """A dependency accepting any one of the configured keys (no keys configured: open)."""
    configured = [k for k in keys if k]

    def check(request: Request, header_key: str | None = Depends(API_KEY_HEADER)) -> None:
        if not configured:
            return
        given = _presented(request, header_key)
        if not any(key_matches(given, key) for key in configured):
            raise Unauthorized("missing or wrong API key: send it in the X-API-Key header")

    return check
