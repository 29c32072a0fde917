"""Conversation routes: /v1/chat (the page's), and the OpenAI-compatible /v1/chat/completions and /v1/models."""

import json
import time
import uuid
from collections.abc import Iterator, Sequence

from fastapi import FastAPI, params
from fastapi.responses import StreamingResponse

from api.chat_schemas import ChatRequest, Completion, CompletionChoice, CompletionMessage, CompletionRequest, ModelCard, ModelList
from api.observe import Metrics
from api.schemas import AskResponse, CitationOut, ErrorBody
from api.stream import SSE_SCHEMA, answer_events, closing
from rag.pipeline import Pipeline
from rag.types import Answer

MODEL_ID = "newsqa"
_ERRORS: dict[int | str, dict[str, object]] = {code: {"model": ErrorBody} for code in (400, 401, 409, 413, 422, 429, 502, 503, 504)}
_SSE = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def add_chat_routes(app: FastAPI, pipeline: Pipeline, read: Sequence[params.Depends], metrics: Metrics) -> None:
    """Register the conversation endpoints on the app (`read`: the dependencies that guard reads)."""

    @app.post(
        "/v1/chat",
        dependencies=read,
        response_model=AskResponse,
        responses={**_ERRORS, 200: {"content": {"text/event-stream": {"schema": SSE_SCHEMA}}}},
    )
    def chat(body: ChatRequest) -> AskResponse | StreamingResponse:
        """Answer the conversation's last user message, made standalone from the earlier turns (`question` says how)."""
        filters = body.filters.to_filters() if body.filters else None
        if not body.stream:
            answer = pipeline.chat(body.turns(), body.top_k, filters)
            metrics.observe_answer(answer)
            return AskResponse.of(answer)
        events = pipeline.chat_stream(body.turns(), body.top_k, filters)
        first = next(events)
        return StreamingResponse(closing(answer_events(first, events, metrics.observe_answer)), media_type="text/event-stream", headers=_SSE)

    @app.get("/v1/models", dependencies=read, response_model=ModelList)
    def models() -> ModelList:
        """The one model this service offers to OpenAI clients."""
        return ModelList(data=[ModelCard(id=MODEL_ID)])

    @app.post(
        "/v1/chat/completions",
        dependencies=read,
        response_model=Completion,
        responses={**_ERRORS, 200: {"content": {"text/event-stream": {"schema": SSE_SCHEMA}}}},
    )
    def completions(body: CompletionRequest) -> Completion | StreamingResponse:
        """OpenAI-compatible: the verified answer with `[n]` markers; `message.citations` (and the last stream
        chunk's `citations`) hold what they point at. A stream carries the verified text only."""
        answer = pipeline.chat(body.turns())
        metrics.observe_answer(answer)
        completion_id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        created = int(time.time())
        citations = [CitationOut.of(c) for c in answer.citations]
        if body.stream:
            return StreamingResponse(_chunks(completion_id, created, answer, citations), media_type="text/event-stream", headers=_SSE)
        message = CompletionMessage(content=answer.answer, citations=citations, refused=answer.refused)
        return Completion(id=completion_id, created=created, model=MODEL_ID, choices=[CompletionChoice(message=message)])


def _chunks(completion_id: str, created: int, answer: Answer, citations: list[CitationOut]) -> Iterator[str]:
    """chat.completion.chunk events: the role, the answer in word-sized pieces, then the stop chunk with citations."""

    def chunk(delta: dict[str, object], finish: str | None = None, **extra: object) -> str:
        body = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": MODEL_ID,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
        return f"data: {json.dumps(body, ensure_ascii=False, default=str)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    words = answer.answer.split(" ")
    for i, word in enumerate(words):
        yield chunk({"content": word if i == len(words) - 1 else word + " "})
    cited = [c.model_dump(mode="json") for c in citations]
    yield chunk({"citations": cited}, "stop", citations=cited, refused=answer.refused)
    yield "data: [DONE]\n\n"
