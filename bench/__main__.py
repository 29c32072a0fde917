"""Measure ingestion, start-to-first-answer and warm /v1/ask latency on the seeds; print a table.

Run: `make bench` (or `.venv/bin/python -m bench`). Loopback only; every loop is bounded.
"""

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from eval.dataset import load_dataset
from eval.run import DEFAULT_DATASET
from rag.config import Settings
from rag.pipeline import build
from rag.store_lock import release_store

ROOT = Path(__file__).resolve().parent.parent
REQUESTS = 200
LOCAL_REQUESTS = 20


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _timed_ms(call: Callable[[int], object], count: int = REQUESTS) -> list[float]:
    """Milliseconds each of `count` calls took (the call gets its index, to vary the question)."""
    samples = []
    for i in range(count):
        started = time.perf_counter()
        call(i)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def _local_answerer(extractive: object, settings: Settings, questions: list[str]) -> list[tuple[str, str]]:
    """Load the local LLM over the same index; time its answers to distinct questions (one at a time)."""
    started = time.perf_counter()
    local = build(settings.model_copy(update={"answerer": "local"}))
    local.prepare()
    rows = [("local LLM answerer: load (assemble-check + model)", f"{time.perf_counter() - started:.2f} s")]
    samples, fallbacks = [], 0
    for question in questions[:LOCAL_REQUESTS]:
        t = time.perf_counter()
        answer = local.ask(question)
        samples.append((time.perf_counter() - t) * 1000)
        fallbacks += bool(answer.verification and answer.verification.fallback)
    p50, p95 = _percentiles(samples)
    rows.append((f"local LLM answerer, {LOCAL_REQUESTS} questions", f"p50 {p50 / 1000:.2f} s, p95 {p95 / 1000:.2f} s ({fallbacks} fell back)"))
    return rows


def _against_baseline(retrieve_ms: float, chunks_per_s: float, first_s: float | None, rss_mb: float) -> list[tuple[str, str]]:
    """The naive LlamaIndex pipeline measured now, in its own process, and our figures as ratios to it."""
    run = subprocess.run(
        [sys.executable, "-m", "bench.baseline", str(ROOT / "seeds"), str(DEFAULT_DATASET)],
        capture_output=True, text=True, timeout=600, check=False,
    )
    if run.returncode != 0:
        return [("naive LlamaIndex baseline", f"failed: {run.stderr.strip().splitlines()[-1:]}")]
    base = json.loads(run.stdout.strip().splitlines()[-1])
    return [
        ("baseline: retrieval p50 (same model, no cache)", f"{base['retrieve_p50_ms']:.1f} ms; ours {retrieve_ms:.1f} ms = {base['retrieve_p50_ms'] / retrieve_ms:.1f}x faster"),
        ("baseline: ingest", f"{base['ingest_chunks_per_s']:.2f} chunks/s of {base['chunks']} 1024-token chunks; ours {chunks_per_s:.2f} chunks/s of ~200 tokens"),
        ("baseline: start to first retrieval", f"{base['start_to_first_retrieval_s']:.2f} s; ours to first HTTP answer {first_s or float('nan'):.2f} s"),
        ("baseline: peak RSS", f"{base['rss_mb']:.0f} MB; ours (server) {rss_mb:.0f} MB"),
    ]


def main() -> None:
    questions = [q.question for q in load_dataset(DEFAULT_DATASET)]
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="rag-bench-") as scratch:
        data_dir = Path(scratch) / "data"
        settings = Settings(data_dir=data_dir, answerer="extractive")
        started = time.perf_counter()
        pipeline = build(settings)
        rows.append(("in-process build (model + store)", f"{(time.perf_counter() - started) * 1000:.0f} ms"))
        started = time.perf_counter()
        results, _ = pipeline.ingest_paths([ROOT / "seeds"])
        elapsed = time.perf_counter() - started
        chunks = sum(r.chunks for r in results)
        rows.append(("ingest seeds (chunks, sentence and word vectors)", f"{chunks} chunks in {elapsed:.2f} s = {chunks / elapsed:.1f} chunks/s"))
        started = time.perf_counter()
        again, _ = pipeline.ingest_paths([ROOT / "seeds"])
        rows.append(("re-ingest unchanged seeds", f"{(time.perf_counter() - started) * 1000:.0f} ms ({sum(r.status == 'unchanged' for r in again)} unchanged)"))

        ours_retrieve_p50, _ = _percentiles(_timed_ms(lambda i, p=pipeline: p.retrieve(f"{questions[i % len(questions)]} <{i}>")))
        p50, p95 = _percentiles(_timed_ms(lambda i, p=pipeline: p.ask(f"{questions[i % len(questions)]} ({i})")))
        rows.append(("in-process ask, distinct questions", f"p50 {p50:.1f} ms, p95 {p95:.1f} ms"))
        rows.extend(_local_answerer(pipeline, settings, questions))
        del pipeline
        release_store(data_dir)  # the server started below opens the same store

        port = _free_port()
        env = {**os.environ, "RAG_DATA_DIR": str(data_dir), "RAG_ANSWERER": "extractive", "OPENBLAS_NUM_THREADS": "1"}
        started = time.perf_counter()
        server = subprocess.Popen(
            [sys.executable, "-m", "rag.cli", "serve", "--port", str(port)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
                first = None
                deadline = time.perf_counter() + 60
                while first is None and time.perf_counter() < deadline:
                    try:
                        response = client.post("/v1/ask", json={"question": questions[0]})
                        if response.status_code == 200:
                            first = time.perf_counter() - started
                    except httpx.TransportError:
                        time.sleep(0.05)
                rows.append(("process start to first answer (HTTP)", f"{first:.2f} s" if first else "timed out"))
                for label, make in (
                    ("warm /v1/ask over HTTP, repeated questions", lambda i: questions[i % len(questions)]),
                    ("warm /v1/ask over HTTP, distinct questions", lambda i: f"{questions[i % len(questions)]} [{i}]"),
                ):
                    samples = []
                    for i in range(REQUESTS):
                        t = time.perf_counter()
                        client.post("/v1/ask", json={"question": make(i)}).raise_for_status()
                        samples.append((time.perf_counter() - t) * 1000)
                    p50, p95 = _percentiles(samples)
                    rows.append((label, f"p50 {p50:.1f} ms, p95 {p95:.1f} ms"))
                rss_kb = int(Path(f"/proc/{server.pid}/status").read_text().split("VmRSS:")[1].split()[0])
                rows.append(("server RSS after the runs", f"{rss_kb / 1024:.0f} MB"))
        finally:
            server.terminate()
            server.wait(timeout=10)
    rows.extend(_against_baseline(ours_retrieve_p50, chunks / elapsed, first, rss_kb / 1024))
    width = max(len(r[0]) for r in rows)
    print(f"{'measure'.ljust(width)}  result")
    print(f"{'-' * width}  {'-' * 40}")
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")
    print(json.dumps({"machine": f"{os.cpu_count()} cores", "requests": REQUESTS}))


if __name__ == "__main__":
    main()
