"""Operations: metrics in the Prometheus format, JSON access logs with request ids and no keys, rate limits."""

import json
import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.observe import JsonLogFormatter
from api.ratelimit import RateLimit
from rag.config import Settings
from rag.pipeline import build
from tests.conftest import NCIC_QUESTION, CountingEmbedder


def test_metrics_count_requests_answers_refusals_and_ingests(client: TestClient) -> None:
    client.post("/v1/ask", json={"question": NCIC_QUESTION})
    client.post("/v1/ask", json={"question": "What is the capital of France?"})
    client.post("/v1/documents", json={"title": "Short note", "text": "Acme opened a shop in Leeds on Monday."})
    text = client.get("/metrics").text
    assert 'rag_http_requests_total{method="POST",route="/v1/ask",status="200"} 2' in text
    assert 'rag_answers_total{answerer="extractive"} 2' in text
    assert "rag_answers_refused_total 1" in text
    assert 'rag_ingested_total{status="created"} 1' in text
    assert 'rag_stage_seconds_count{stage="retrieve"} 2' in text


def test_each_request_logs_one_json_line_with_its_id_and_never_a_key(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="api.access"):
        response = client.post("/v1/ask", json={"question": NCIC_QUESTION}, headers={"X-Request-ID": "abc-123", "X-API-Key": "secret-key-789"})
    assert response.headers["x-request-id"] == "abc-123"
    lines = [JsonLogFormatter().format(r) for r in caplog.records if r.name == "api.access"]
    entry = json.loads(lines[-1])
    assert entry["request_id"] == "abc-123" and entry["route"] == "/v1/ask" and entry["status"] == 200 and entry["ms"] > 0
    assert all("secret-key-789" not in line for line in lines)


def test_a_client_over_its_rate_limit_gets_429_with_retry_after(tmp_path: Path, embedder: CountingEmbedder, seeded_dir: Path) -> None:
    pipeline = build(Settings(data_dir=seeded_dir, answerer="extractive", rate_limit_per_minute=3), embedder)
    with TestClient(create_app(pipeline)) as client:
        statuses = [client.post("/v1/ask", json={"question": NCIC_QUESTION}).status_code for _ in range(4)]
        limited = client.post("/v1/ask", json={"question": NCIC_QUESTION})
        assert statuses == [200, 200, 200, 429] and limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1 and limited.json()["error"] == "too many requests"
        assert client.get("/healthz").status_code == 200  # probes are never limited


def test_the_rate_limit_recovers_as_time_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr("api.ratelimit.time.monotonic", lambda: now[0])
    limit = RateLimit(app=None, per_minute=60)  # type: ignore[arg-type]
    assert all(limit._take("a") == 0 for _ in range(60))
    assert limit._take("a") == pytest.approx(1.0) and limit._take("b") == 0  # clients are limited separately
    now[0] += 2.0
    assert limit._take("a") == 0
