"""create_app(pipeline): the FastAPI application and its routes."""

import json
from pathlib import Path

from fastapi import Depends, FastAPI, Request, Response
from pydantic import SecretStr
from fastapi.responses import FileResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles

from api.access import requires
from api.chat import add_chat_routes
from api.errors import error_response, install_error_handlers
from api.headers import SecurityHeaders
from api.limits import BodyLimit
from api.observe import Metrics, Observability
from api.ratelimit import RateLimit
from api.stream import SSE_SCHEMA, answer_events, closing
from api.schemas import (
    ArticleIn,
    AskRequest,
    AskResponse,
    Deleted,
    DocumentDetail,
    DocumentList,
    DocumentOut,
    ErrorBody,
    FailureOut,
    Health,
    IngestOut,
    UploadOut,
)
from rag.documents import article_from_record, check_size, parse_file
from rag.errors import InvalidInput, RagError
from rag.pipeline import Pipeline
from rag.types import IngestFailure

STATIC = Path(__file__).with_name("static")
_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorBody} for code in (400, 401, 404, 409, 413, 415, 422, 429, 502, 503, 504)
}
_UPLOAD_SCHEMA = {
    "requestBody": {
        "content": {
            "application/json": {"schema": ArticleIn.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
        },
        "required": True,
    }
}


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value else None


def create_app(pipeline: Pipeline) -> FastAPI:
    """The service over one pipeline (built once at start-up, shared by every request)."""
    app = FastAPI(
        title="News QA",
        version="0.1.0",
        description="Ask questions about news articles; answers cite the exact sentences they rest on.",
    )
    install_error_handlers(app)
    settings = pipeline.settings
    metrics = Metrics()
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(SecurityHeaders)
    if settings.rate_limit_per_minute:
        app.add_middleware(RateLimit, per_minute=settings.rate_limit_per_minute)
    app.add_middleware(Observability, metrics=metrics)
    write = [Depends(requires(_secret(settings.api_key)))]
    read = [Depends(requires(_secret(settings.read_key), _secret(settings.api_key)))] if settings.read_key else []
    add_chat_routes(app, pipeline, read, metrics)

    @app.get("/metrics", dependencies=read, include_in_schema=False)
    def prometheus() -> Response:
        return Response(metrics.render(), media_type="text/plain; version=0.0.4")

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/healthz", response_model=Health, responses={503: {"model": Health}})
    def healthz(response: Response) -> Health:
        """Whether the store answers (never calls a model)."""
        try:
            chunks = pipeline.chunk_count()
        except RagError as exc:
            response.status_code = 503
            return Health(status="error", detail=str(exc))
        return Health(status="ok", chunks=chunks, embedder=pipeline.embedder_name)

    @app.post(
        "/v1/ask",
        dependencies=read,
        response_model=AskResponse,
        responses={**_ERRORS, 200: {"content": {"text/event-stream": {"schema": SSE_SCHEMA}}}},
    )
    def ask(body: AskRequest, request: Request) -> AskResponse | StreamingResponse:
        """Answer from the stored articles with cited sentences, or refuse; streamed as SSE when asked."""
        filters = body.filters.to_filters() if body.filters else None
        if not (body.stream or "text/event-stream" in request.headers.get("accept", "")):
            answer = pipeline.ask(body.question, body.top_k, filters)
            metrics.observe_answer(answer)
            return AskResponse.of(answer)
        events = pipeline.ask_stream(body.question, body.top_k, filters)
        first = next(events)  # bad questions and an empty index fail here, as plain 4xx responses
        return StreamingResponse(
            closing(answer_events(first, events, metrics.observe_answer)), media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        )

    @app.post(
        "/v1/documents",
        dependencies=write,
        response_model=UploadOut | IngestOut,
        responses={**_ERRORS, 201: {"model": IngestOut}},
        openapi_extra=_UPLOAD_SCHEMA,
    )
    async def add_document(request: Request, response: Response) -> IngestOut | UploadOut:
        """Add an article: a JSON object, or a file (.txt .md .html .jsonl .pdf) as multipart field `file`."""
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("multipart/form-data"):
            return await _add_file(request, response)
        if not content_type.startswith("application/json"):
            return error_response(415, "unsupported media type", "send application/json or multipart/form-data")  # type: ignore[return-value]
        raw = await request.body()
        check_size(raw, pipeline.settings.max_document_bytes)
        try:
            record = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"the body is not valid JSON: {exc}") from exc
        if not isinstance(record, dict):
            raise InvalidInput("the body must be a JSON object with 'title' and 'text'")
        article_in = ArticleIn.model_validate(record)
        result = pipeline.ingest(article_from_record(article_in.model_dump()))
        metrics.observe_ingest(result)
        response.status_code = 201 if result.status == "created" else 200
        return IngestOut.of(result)

    async def _add_file(request: Request, response: Response) -> UploadOut:
        async with request.form(max_files=1, max_fields=5) as form:
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise InvalidInput("the multipart body needs a file in the field 'file'")
            name = upload.filename or "upload.txt"
            data = await upload.read(pipeline.settings.max_document_bytes + 1)
        check_size(data, pipeline.settings.max_document_bytes)
        parsed = list(parse_file(name, data))
        failures = [item for item in parsed if isinstance(item, IngestFailure)]
        results = pipeline.ingest_many([item for item in parsed if not isinstance(item, IngestFailure)])
        for result in results:
            metrics.observe_ingest(result)
        if not results:
            reasons = "; ".join(f"{f.source}: {f.reason}" for f in failures) or "no article found"
            raise InvalidInput(f"nothing was added from {name}: {reasons}")
        first = IngestOut.of(results[0])
        response.status_code = 201 if any(r.status == "created" for r in results) else 200
        return UploadOut(
            **first.model_dump(),
            documents=[IngestOut.of(r) for r in results],
            failures=[FailureOut(source=f.source, reason=f.reason) for f in failures],
        )

    @app.get("/v1/documents", dependencies=read, response_model=DocumentList)
    def list_documents() -> DocumentList:
        """Every stored article."""
        return DocumentList(documents=[DocumentOut.of(d) for d in pipeline.documents()])

    @app.get("/v1/documents/{document_id}", dependencies=read, response_model=DocumentDetail, responses=_ERRORS)
    def get_document(document_id: str) -> DocumentDetail:
        """One article with its full text and sentence spans."""
        return DocumentDetail.of_view(pipeline.document(document_id))

    @app.delete("/v1/documents/{document_id}", dependencies=write, response_model=Deleted, responses=_ERRORS)
    def delete_document(document_id: str) -> Deleted:
        """Remove an article and all its chunks."""
        return Deleted(id=document_id, deleted_chunks=pipeline.delete(document_id))

    return app
