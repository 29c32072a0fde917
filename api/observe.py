"""Operations: one JSON log line per request (with a request id, never a header or a key) and Prometheus metrics."""

import json
import logging
import threading
import time
import uuid
from collections import defaultdict

from api.limits import ASGIApp, Message, Receive, Scope, Send
from rag.types import Answer, IngestResult

log = logging.getLogger("api.access")


class Metrics:
    """Counters and latency sums, rendered in the Prometheus text format."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[tuple[str, tuple[tuple[str, str], ...]], float] = defaultdict(float)

    def add(self, name: str, value: float = 1.0, **labels: str) -> None:
        with self._lock:
            self._counters[(name, tuple(sorted(labels.items())))] += value

    def observe_answer(self, answer: Answer) -> None:
        """Count an answer: refused, degraded, fallen back to extraction; add its stage timings."""
        self.add("rag_answers_total", answerer=answer.answerer)
        if answer.refused:
            self.add("rag_answers_refused_total")
        if answer.degraded:
            self.add("rag_answers_degraded_total")
        if answer.verification and answer.verification.fallback:
            self.add("rag_verification_fallbacks_total")
        for stage, ms in answer.timings_ms.items():
            self.add("rag_stage_seconds_sum", ms / 1000, stage=stage)
            self.add("rag_stage_seconds_count", stage=stage)

    def observe_ingest(self, result: IngestResult) -> None:
        self.add("rag_ingested_total", status=result.status)

    def render(self) -> str:
        with self._lock:
            items = sorted(self._counters.items())
        lines = []
        for (name, labels), value in items:
            label_text = ",".join(f'{k}="{_escape(v)}"' for k, v in labels)
            lines.append(f"{name}{{{label_text}}} {value:g}" if label_text else f"{name} {value:g}")
        return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Observability:
    """Plain ASGI: request ids (X-Request-ID in and out), the access log line, request counts and latencies."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if given.replace("-", "").isalnum() and len(given) <= 64 else uuid.uuid4().hex
        started = time.perf_counter()
        status = 500

        async def tagged(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, tagged)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or ("static" if scope["path"].startswith("/static") else "unmatched")
            self.metrics.add("rag_http_requests_total", route=route, method=scope["method"], status=str(status))
            self.metrics.add("rag_http_request_seconds_sum", elapsed, route=route)
            self.metrics.add("rag_http_request_seconds_count", route=route)
            log.info(json.dumps({
                "request_id": request_id, "method": scope["method"], "route": route, "status": status,
                "ms": round(elapsed * 1000, 2),
            }))


class JsonLogFormatter(logging.Formatter):
    """Every log record as one JSON object; a message that is itself a JSON object is merged in."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {"ts": self.formatTime(record), "level": record.levelname, "logger": record.name}
        message = record.getMessage()
        try:
            parsed = json.loads(message)
        except json.JSONDecodeError:
            parsed = None
        entry.update(parsed if isinstance(parsed, dict) else {"message": message})
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps(entry, ensure_ascii=False)


def configure_json_logs() -> None:
    """Route the service's loggers to stderr as JSON lines."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLogFormatter())
    for name in ("api", "rag"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(logging.INFO)
        logger.propagate = False
