"""Run a dataset against a target (this process's pipeline, or a service over HTTP) and judge every answer."""

import time
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from eval.dataset import EvalQuestion
from eval.metrics import CitedPassage, Observation, Verdict, judge
from rag.errors import UpstreamError

MAX_FAILURES_IN_A_ROW = 3
THRESHOLDS_FILE = Path(__file__).with_name("thresholds.toml")
DEFAULT_DATASET = Path(__file__).parent / "datasets" / "seeds.jsonl"


class Target(Protocol):
    """Something that answers questions: the in-process pipeline or a running service."""

    def observe(self, question: str) -> Observation: ...


class PipelineTarget:
    """Asks an in-process `rag.pipeline.Pipeline`."""

    def __init__(self, pipeline: object) -> None:
        self._pipeline = pipeline

    def observe(self, question: str) -> Observation:
        started = time.perf_counter()
        answer = self._pipeline.ask(question)  # type: ignore[attr-defined]
        latency = (time.perf_counter() - started) * 1000
        passages = self._pipeline.retrieve(question)  # type: ignore[attr-defined]
        return Observation(
            answer=answer.answer,
            refused=answer.refused,
            citations=tuple(CitedPassage(c.document_id, c.text, c.quote) for c in answer.citations),
            retrieved=tuple(p.chunk.text for p in passages),
            latency_ms=latency,
            short=answer.short,
        )


class HttpTarget:
    """Asks a running service through `POST /v1/ask`."""

    def __init__(self, base_url: str, api_key: str | None = None, timeout: float = 60.0) -> None:
        import httpx

        headers = {"X-API-Key": api_key} if api_key else {}
        self._client = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout)

    def observe(self, question: str) -> Observation:
        import httpx

        started = time.perf_counter()
        try:
            response = self._client.post("/v1/ask", json={"question": question})
        except httpx.HTTPError as exc:
            raise UpstreamError(f"cannot reach the service: {exc}") from exc
        latency = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise UpstreamError(f"the service answered {response.status_code}: {response.text[:300]}")
        body = response.json()
        citations = tuple(CitedPassage(c["document_id"], c["text"], c.get("quote", "")) for c in body["citations"])
        retrieved = tuple(c.text for c in citations)
        return Observation(body["answer"], bool(body["refused"]), citations, retrieved, latency, short=body.get("short_answer"))


def run(
    questions: Sequence[EvalQuestion], target: Target, on_progress: Callable[[int, int], None] | None = None
) -> list[Verdict]:
    """Judge every question's answer, in order. A question the system fails to answer (the model timed out, the
    service erred) is scored wrong and the run goes on; UpstreamError when several fail in a row."""
    verdicts = []
    failed_in_a_row = 0
    for done, question in enumerate(questions, start=1):
        started = time.perf_counter()
        try:
            seen = target.observe(question.question)
            failed_in_a_row = 0
        except UpstreamError as exc:
            failed_in_a_row += 1
            if failed_in_a_row >= MAX_FAILURES_IN_A_ROW:
                raise UpstreamError(f"{failed_in_a_row} questions in a row got no answer, the last: {exc}") from exc
            seen = Observation("", False, (), (), (time.perf_counter() - started) * 1000, error=str(exc))
        verdicts.append(judge(question, seen))
        if on_progress:
            on_progress(done, len(questions))
    return verdicts


def load_thresholds(path: Path = THRESHOLDS_FILE) -> dict[str, float]:
    """The project's pass marks."""
    with path.open("rb") as handle:
        return {k: float(v) for k, v in tomllib.load(handle).items()}


def parse_pass_marks(marks: list[str]) -> dict[str, float]:
    """`NAME=VALUE` pass marks overriding the project's for one run (names as in thresholds.toml)."""
    known = load_thresholds()
    parsed: dict[str, float] = {}
    for mark in marks:
        name, _, value = mark.partition("=")
        if name.strip() not in known:
            raise ValueError(f"{mark!r}: the pass marks are {', '.join(sorted(known))}")
        try:
            parsed[name.strip()] = float(value)
        except ValueError:
            raise ValueError(f"{mark!r}: the value must be a number") from None
    return parsed


def failed_thresholds(summary: dict[str, object], thresholds: dict[str, float]) -> list[str]:
    """Sentences naming each overall figure below its threshold."""
    overall = summary["overall"]
    assert isinstance(overall, dict)
    failures = []
    for name, floor in thresholds.items():
        if name == "max_unsupported_claims":
            if overall["unsupported_claims"] > floor:
                failures.append(f"unsupported_claims {overall['unsupported_claims']} > {int(floor)}")
            continue
        value = overall.get(name, {}).get("value")
        if value is not None and value < floor:
            failures.append(f"{name} {value:.3f} < {floor:.3f}")
    return failures



