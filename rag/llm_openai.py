"""Any OpenAI-compatible server (OpenAI, vLLM, Ollama, llama.cpp) through the `openai` SDK, under one deadline.

The SDK's own retries are off: this module is the one retry layer, so a failing call costs at most
`retries + 1` upstream requests and never outlives the answer's deadline. Bodies are read piece by piece
so a server dripping bytes cannot hold an answer past it either.
"""

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai

from rag.errors import RateLimited, UpstreamError, UpstreamTimeout
from rag.generate import Deadline, Message, Scored, json_format, token_alternatives

_RETRY_PAUSE_S = 0.5


class OpenAIGenerator:
    """Chat completions from an OpenAI-compatible server."""

    def __init__(self, client: openai.OpenAI, model: str, retries: int) -> None:
        self._client = client.with_options(max_retries=0)
        self._model = model
        self._retries = retries
        self._scores = True  # whether the server takes `logprobs`
        self.name = f"openai:{model}"

    def complete(self, messages: list[Message], max_tokens: int, deadline: Deadline, schema: dict[str, Any] | None = None) -> str:
        """The whole answer's text (one non-streamed completion); with `schema`, JSON constrained to it."""
        return _content(self._reply(messages, max_tokens, deadline, schema, {}))

    def complete_scored(self, messages: list[Message], max_tokens: int, deadline: Deadline, schema: dict[str, Any], top: int) -> Scored:
        """JSON constrained to `schema`, with the `top` likeliest tokens at each place when the server tells them (a
        server that ignores `logprobs` gives the text alone; one that rejects them is asked without, from then on)."""
        if self._scores:
            try:
                reply = self._reply(messages, max_tokens, deadline, schema, {"logprobs": True, "top_logprobs": top})
                return Scored(_content(reply), token_alternatives(reply["choices"][0].get("logprobs")))
            except _Refused:
                self._scores = False
        return Scored(_content(self._reply(messages, max_tokens, deadline, schema, {})))

    def _reply(
        self, messages: list[Message], max_tokens: int, deadline: Deadline, schema: dict[str, Any] | None, extra: dict[str, Any]
    ) -> dict[str, Any]:
        """One non-streamed completion's reply, checked to hold a first choice."""
        body = b"".join(self._read(messages, max_tokens, deadline, stream=False, schema=schema, extra=extra))
        try:
            reply = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise UpstreamError(f"the model server sent a reply that is not JSON: {_preview(body)}") from exc
        if not isinstance(reply, dict) or not isinstance(reply.get("choices"), list) or not reply["choices"] or not isinstance(reply["choices"][0], dict):
            raise UpstreamError(f"the model server's reply has no choices: {_preview(body)}")
        return reply

    def stream(self, messages: list[Message], max_tokens: int, deadline: Deadline) -> Iterator[str]:
        """Text pieces as the server streams them (server-sent events); closing the iterator drops the connection."""
        buffer = b""
        wrote = False
        finished = False
        for block in self._read(messages, max_tokens, deadline, stream=True):
            buffer += block
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                text, done = _parse_event(line.strip())
                finished = finished or done
                if text:
                    wrote = True
                    yield text
            if finished:
                return
        if not finished and not wrote:
            raise UpstreamError(f"the model server's stream held no completion: {_preview(buffer)}")

    def _read(
        self, messages: list[Message], max_tokens: int, deadline: Deadline, stream: bool, schema: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Iterator[bytes]:
        """The raw reply body in pieces, after the retry layer; each piece checks the deadline."""
        extra = {**(extra or {}), **({"response_format": json_format(schema)} if schema is not None else {})}
        for attempt in range(self._retries + 1):
            client = self._client.with_options(timeout=httpx.Timeout(deadline.remaining()))
            try:
                with client.chat.completions.with_streaming_response.create(
                    model=self._model, messages=messages, max_tokens=max_tokens, temperature=0, stream=stream, **extra  # type: ignore[arg-type]
                ) as response:
                    for block in response.iter_bytes():
                        deadline.remaining()
                        yield block
                    return
            except openai.RateLimitError as exc:
                raise RateLimited("the model server is rate-limiting us; try again later", _retry_after(exc.response)) from exc
            except (openai.APITimeoutError, httpx.TimeoutException) as exc:
                raise UpstreamTimeout(f"the model server did not answer within {deadline.seconds:g} s") from exc
            except openai.APIStatusError as exc:
                if exc.status_code in (400, 422):
                    raise _Refused(f"the model server answered {exc.status_code}: {_preview(exc.response.content)}") from exc
                if exc.status_code < 500 or attempt == self._retries:
                    raise UpstreamError(f"the model server answered {exc.status_code}: {_preview(exc.response.content)}") from exc
            except openai.APIConnectionError as exc:
                if attempt == self._retries:
                    raise UpstreamError(f"cannot reach the model server: {exc}") from exc
            except httpx.HTTPError as exc:
                raise UpstreamError(f"the model server broke off its reply: {exc}") from exc
            time.sleep(min(_RETRY_PAUSE_S, deadline.remaining()))


class _Refused(UpstreamError):
    """The server rejected the request itself (400 or 422): no retry mends it."""


def _content(reply: dict[str, Any]) -> str:
    """The text of a reply's first choice; UpstreamError when it has none."""
    message = reply["choices"][0].get("message")
    content = message.get("content") if isinstance(message, dict) else None
    if not isinstance(content, str) or not content.strip():
        raise UpstreamError("the model server's reply has no text (null or empty content)")
    return content


def _parse_event(line: bytes) -> tuple[str, bool]:
    """One server-sent-event line: (its text delta, whether the stream says it is done)."""
    if not line.startswith(b"data:"):
        return "", False
    data = line[5:].strip()
    if data == b"[DONE]":
        return "", True
    try:
        event: Any = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UpstreamError(f"the model server streamed malformed JSON: {_preview(data)}") from exc
    if not isinstance(event, dict):
        raise UpstreamError(f"the model server streamed an unexpected event: {_preview(data)}")
    if "error" in event:
        raise UpstreamError(f"the model server failed mid-answer: {_preview(json.dumps(event['error']).encode())}")
    choices = event.get("choices") or []
    text = "".join(str((c.get("delta") or {}).get("content") or "") for c in choices if isinstance(c, dict))
    done = any(isinstance(c, dict) and c.get("finish_reason") for c in choices)
    return text, done


def _retry_after(response: httpx.Response) -> int | None:
    value = response.headers.get("retry-after", "")
    return max(1, int(float(value))) if value.replace(".", "", 1).isdigit() else None


def _preview(body: bytes) -> str:
    return body[:200].decode("utf-8", "replace").strip() or "(empty)"
