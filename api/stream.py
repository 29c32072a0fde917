"""Server-sent events for a streamed answer: `passages`, `delta`..., then `final` (or `error`)."""

import json
import logging
from collections.abc import AsyncIterator, Callable, Generator, Iterator

import anyio
from starlette.concurrency import iterate_in_threadpool

from api.errors import describe
from api.schemas import AskResponse, PassageOut
from rag.errors import RagError
from rag.types import Answer, StreamEvent

log = logging.getLogger("api")
# Each event's data is a JSON object whose shape depends on the event: any JSON, as far as the schema says.
SSE_SCHEMA: dict[str, object] = {"description": "server-sent events; each `data:` line holds one JSON object"}


def sse(event: str, data: object) -> str:
    """One server-sent event with a JSON payload."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"


def answer_events(
    first: StreamEvent, rest: Generator[StreamEvent, None, None], on_final: Callable[[Answer], None] | None = None
) -> Generator[str, None, None]:
    """The answer's events as SSE text; a failure after the first event becomes an `error` event, never a broken stream."""
    try:
        for event in _chain(first, rest):
            if event.kind == "passages":
                yield sse("passages", {"passages": [PassageOut.of_passage(n, p).model_dump(mode="json") for n, p in enumerate(event.passages, 1)]})
            elif event.kind == "delta":
                yield sse("delta", {"text": event.text})
            elif event.answer is not None:
                if on_final:
                    on_final(event.answer)
                yield sse("final", AskResponse.of(event.answer).model_dump(mode="json"))
    except RagError as exc:
        status, label, _ = describe(exc)
        yield sse("error", {"status": status, "error": label, "detail": str(exc)})
    finally:
        rest.close()  # a client that went away stops the model


async def closing(events: Generator[str, None, None]) -> AsyncIterator[str]:
    """Stream a blocking generator from worker threads; when the client goes away, close it, which stops the model."""
    try:
        async for item in iterate_in_threadpool(events):
            yield item
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(events.close)


def _chain(first: StreamEvent, rest: Iterator[StreamEvent]) -> Iterator[StreamEvent]:
    yield first
    yield from rest
