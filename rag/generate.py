"""What an LLM backend must do for the answerers: stream a chat completion within a deadline."""

import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol, TypedDict

from rag.errors import RagError, UpstreamError, UpstreamTimeout


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


@dataclass(frozen=True)
class Scored:
    """A completion's text and, for each token written, that token with the log-probabilities of the likeliest tokens
    at its place (token text -> logprob); no places when the server does not tell them."""

    text: str
    places: tuple[tuple[str, dict[str, float]], ...] = ()


class LanguageModel(Protocol):
    """An LLM that writes text from chat messages (a local model or an OpenAI-compatible server)."""

    name: str

    def stream(self, messages: list[Message], max_tokens: int, deadline: Deadline) -> Iterator[str]:
        """The answer's text in pieces as it is written; closing the iterator stops the generation."""
        ...

    def complete(self, messages: list[Message], max_tokens: int, deadline: Deadline, schema: dict[str, Any] | None = None) -> str:
        """The whole answer's text; with `schema`, a JSON text the model was constrained to (a JSON schema)."""
        ...

    def complete_scored(self, messages: list[Message], max_tokens: int, deadline: Deadline, schema: dict[str, Any], top: int) -> Scored:
        """A completion constrained to `schema`, with the `top` likeliest tokens at each place it wrote one."""
        ...


TOP_TOKENS = 5  # the likeliest tokens a scored completion asks for at each place: the check's word, a copy's first token


def token_alternatives(logprobs: Any) -> tuple[tuple[str, dict[str, float]], ...]:
    """The OpenAI-shaped `logprobs` of a choice (or of a streamed chunk): each token written, with the likeliest tokens
    at its place (token text -> logprob); none for anything else."""
    content = logprobs.get("content") if isinstance(logprobs, dict) else None
    if not isinstance(content, list):
        return ()
    found = []
    for written in content:
        tops = written.get("top_logprobs") if isinstance(written, dict) else None
        if isinstance(tops, list):
            likeliest = {str(t.get("token")): float(t["logprob"]) for t in tops if isinstance(t, dict) and isinstance(t.get("logprob"), (int, float))}
            found.append((str(written.get("token")), likeliest))
    return tuple(found)


def reply_schema(**fields: dict[str, Any]) -> dict[str, Any]:
    """The JSON schema of a reply that is one object of exactly these fields (name -> the field's schema), each
    required."""
    return {"type": "object", "properties": dict(fields), "required": list(fields), "additionalProperties": False}


def json_format(schema: dict[str, Any]) -> dict[str, Any]:
    """The OpenAI-style `response_format` that constrains a completion to `schema` (llama.cpp, vLLM, OpenAI)."""
    return {"type": "json_schema", "json_schema": {"name": "reply", "strict": True, "schema": schema}}


class LazyModel:
    """A model loaded at its first use, once: a service whose answers are never in doubt, or a command that only
    ingests, never pays for loading it. A model that cannot be loaded (a missing or corrupt file: no retry mends it)
    fails every use as the same UpstreamError, without reading its files again."""

    def __init__(self, name: str, load: Callable[[], LanguageModel]) -> None:
        self.name = name
        self._load = load
        self._model: LanguageModel | None = None
        self._failure: UpstreamError | None = None
        self._loading = threading.Lock()

    def load(self) -> None:
        """Load the model now (UpstreamError when it cannot be)."""
        self._loaded()

    def _loaded(self) -> LanguageModel:
        with self._loading:
            if self._failure is not None:
                raise self._failure
            if self._model is None:
                try:
                    self._model = self._load()
                except RagError as exc:
                    self._failure = UpstreamError(f"the model {self.name} could not be loaded: {exc}")
                    raise self._failure from exc
            return self._model

    def load_in_background(self) -> None:
        """Start loading the model on a thread of its own, so that a service's first use finds it ready (a failure
        is told at that use)."""

        def load() -> None:
            try:
                self._loaded()
            except UpstreamError:
                pass

        threading.Thread(target=load, name=f"load {self.name}", daemon=True).start()

    def stream(self, messages: list[Message], max_tokens: int, deadline: Deadline) -> Iterator[str]:
        return self._loaded().stream(messages, max_tokens, deadline)

    def complete(self, messages: list[Message], max_tokens: int, deadline: Deadline, schema: dict[str, Any] | None = None) -> str:
        return self._loaded().complete(messages, max_tokens, deadline, schema)

    def complete_scored(self, messages: list[Message], max_tokens: int, deadline: Deadline, schema: dict[str, Any], top: int) -> Scored:
        return self._loaded().complete_scored(messages, max_tokens, deadline, schema, top)


_SPACE = re.compile(r"\s+")


def one_line(text: str) -> str:
    """The text with its runs of white space made single spaces (a prompt's one-line field)."""
    return _SPACE.sub(" ", text).strip()
