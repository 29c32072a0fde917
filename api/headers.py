"""Security headers: the page may run only its own script, may not be framed, and nothing is content-sniffed."""

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response

PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# The OpenAPI pages load Swagger UI / ReDoc from their CDN: they keep only the framing and sniffing rules.
_DOCS = ("/docs", "/redoc")


def install_security_headers(app: FastAPI) -> None:
    """Add the headers to every response."""

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        if request.url.path.startswith(_DOCS):
            response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
        else:
            response.headers["Content-Security-Policy"] = PAGE_POLICY
            response.headers["X-Frame-Options"] = "DENY"
        return response
