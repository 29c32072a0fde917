"""What an LLM backend must do for the answerers: stream a chat completion within a deadline."""

import time
from collections.abc import Iterator
from typing import Any, Protocol, TypedDict

from rag.errors import UpstreamTimeout


class Message(TypedDict):
    """One chat message, OpenAI-shaped."""

    role: str
    content: str


class Deadline:
    """A point in time every step of one answer must finish by (retries and queueing included)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        """Seconds left; UpstreamTimeout when none."""
        left = self._end - time.monotonic()
        if left <= 0:
            raise UpstreamTimeout(f"the model did not answer within {self.seconds:g} s")
        return left


class LanguageModel(Protocol):
    """An LLM that writes text from chat messages (a local model or an OpenAI-compatible server)."""

    name: str

    def stream(self, messages: list[Message], max_tokens: int, deadline: Deadline) -> Iterator[str]:
        """The answer's text in pieces as it is written; closing the iterator stops the generation."""
        ...

    def complete(self, messages: list[Message], max_tokens: int, deadline: Deadline, schema: dict[str, Any] | None = None) -> str:
        """The whole answer's text; with `schema`, a JSON text the model was constrained to (a JSON schema)."""
        ...


def json_format(schema: dict[str, Any]) -> dict[str, Any]:
    """The OpenAI-style `response_format` that constrains a completion to `schema` (llama.cpp, vLLM, OpenAI)."""
    return {"type": "json_schema", "json_schema": {"name": "reply", "strict": True, "schema": schema}}
