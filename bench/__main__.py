"""Measure ingestion, start-to-first-answer and warm /v1/ask latency on the seeds, then on generated corpora of
~1k, ~10k and ~100k chunks, each beside the naive LlamaIndex pipeline; print tables.

Run: `make bench` (or `.venv/bin/python -m bench [--sizes 1000,10000,100000 | --sizes none]`). Loopback only;
every loop is bounded.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import scale
from bench.serving import http_latencies, percentiles, serve, timed_ms
from eval.dataset import load_dataset
from eval.run import DEFAULT_DATASET
from rag.config import Settings
from rag.pipeline import build
from rag.store_lock import release_store

ROOT = Path(__file__).resolve().parent.parent
REQUESTS = 200
LOCAL_REQUESTS = 20


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
    p50, p95 = percentiles(samples)
    rows.append((f"local LLM answerer, {LOCAL_REQUESTS} questions", f"p50 {p50 / 1000:.2f} s, p95 {p95 / 1000:.2f} s ({fallbacks} fell back)"))
    return rows


def _against_baseline(retrieve_ms: float, chunks_per_s: float, first_s: float | None, rss_mb: float) -> list[tuple[str, str]]:
    """The naive LlamaIndex pipeline measured now, in its own process, and our figures as ratios to it."""
    run = subprocess.run(
        [sys.executable, "-m", "bench.baseline", "--corpus", str(ROOT / "seeds"), "--questions", str(DEFAULT_DATASET)],
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


def seeds_table() -> None:
    """The seeds: ours (extractive and local LLM answers) and the naive baseline, as rows of text."""
    questions = [q.question for q in load_dataset(DEFAULT_DATASET)]
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="rag-bench-") as scratch:
        data_dir = Path(scratch) / "data"
        settings = Settings(data_dir=data_dir, answerer="extractive", answer_check="off")
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

        ours_retrieve_p50, _ = percentiles(timed_ms(lambda i, p=pipeline: p.retrieve(f"{questions[i % len(questions)]} <{i}>"), REQUESTS))
        p50, p95 = percentiles(timed_ms(lambda i, p=pipeline: p.ask(f"{questions[i % len(questions)]} ({i})"), REQUESTS))
        rows.append(("in-process ask, distinct questions", f"p50 {p50:.1f} ms, p95 {p95:.1f} ms"))
        rows.extend(_local_answerer(pipeline, settings, questions))
        del pipeline
        release_store(data_dir)  # the server started below opens the same store

        with serve(data_dir, questions[0], timeout_s=60) as server:
            first = server.first_answer_s
            rows.append(("process start to first answer (HTTP)", f"{first:.2f} s" if first else "timed out"))
            for label, asked in (
                ("warm /v1/ask over HTTP, repeated questions", questions),
                ("warm /v1/ask over HTTP, distinct questions", [f"{questions[i % len(questions)]} [{i}]" for i in range(REQUESTS)]),
            ):
                p50, p95 = percentiles(http_latencies(server.client, asked, REQUESTS))
                rows.append((label, f"p50 {p50:.1f} ms, p95 {p95:.1f} ms"))
            rss_mb, _ = server.memory_mb()
            rows.append(("server RSS after the runs", f"{rss_mb:.0f} MB"))
    rows.extend(_against_baseline(ours_retrieve_p50, chunks / elapsed, first, rss_mb))
    width = max(len(r[0]) for r in rows)
    print(f"{'measure'.ljust(width)}  result")
    print(f"{'-' * width}  {'-' * 40}")
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")
    print(json.dumps({"machine": f"{os.cpu_count()} cores", "requests": REQUESTS}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="generated corpus sizes in chunks, or 'none'")
    parser.add_argument("--skip-seeds", action="store_true", help="only the generated corpora")
    args = parser.parse_args()
    if not args.skip_seeds:
        seeds_table()
    if args.sizes != "none":
        results = scale.run([int(size) for size in args.sizes.split(",")])
        report = ROOT / "reports" / "bench-scale.json"
        report.parent.mkdir(exist_ok=True)
        report.write_text(json.dumps([{"size": r.label, "ours": r.ours, "baseline": r.baseline} for r in results], indent=1))
        print()
        print(scale.table(results))


if __name__ == "__main__":
    main()
