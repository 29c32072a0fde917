"""Corpora of ~1k, ~10k and ~100k generated chunks: ingestion, re-ingestion, warm latency in-process and over HTTP,
20 concurrent clients, start to first answer, memory, disk and recall against exact search, each beside the naive
LlamaIndex pipeline measured on the same articles in the same run.

The smallest corpus is embedded for real (its ingestion rate is the one to read); the larger ones replay its
vectors (see bench/replay.py), so their ingestion figures measure everything but the model.
"""

import json
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench.corpus import GeneratedArticle, generate_article
from bench.replay import ReplayEmbedder
from bench.serving import (
    concurrent_clients,
    disk_mb,
    http_latencies,
    percentiles,
    serve,
    timed_ms,
)
from rag.config import Settings
from rag.embed import build_embedder
from rag.pipeline import Pipeline, build
from rag.store_lock import release_store

CHUNKS_PER_ARTICLE = 2  # measured: 1.98 chunks per generated article at 200 tokens
QUESTIONS = 200
RECALL_QUERIES = 100
CLIENTS, PER_CLIENT = 20, 10


@dataclass
class SizeResult:
    """Figures for one corpus size: ours, the baseline's, and notes."""

    label: str
    ours: dict[str, float] = field(default_factory=dict)
    baseline: dict[str, float] = field(default_factory=dict)


def _write_corpus(articles: list[GeneratedArticle], folder: Path) -> Path:
    """The articles as JSONL files of 1,000 lines, the way a user would hand them to `rag ingest`."""
    folder.mkdir(parents=True, exist_ok=True)
    for start in range(0, len(articles), 1000):
        lines = [
            json.dumps({"id": g.id, "title": g.title, "text": g.text, "published": g.published, "source": g.source})
            for g in articles[start : start + 1000]
        ]
        (folder / f"part-{start // 1000:04d}.jsonl").write_text("\n".join(lines) + "\n")
    return folder


def _ingest(pipeline: Pipeline, corpus: Path, label: str) -> tuple[float, int]:
    """Seconds to ingest the corpus folder (as `rag ingest` does) and the chunks it made, with progress."""
    started = time.perf_counter()
    shown = [0]

    def progress(done: int, total: int, _title: str) -> None:
        if done * 20 // total > shown[0] * 20 // total or done == total:
            shown[0] = done
            print(f"  {label}: {done}/{total} articles, {done / (time.perf_counter() - started):.1f}/s", file=sys.stderr, flush=True)

    results, failures = pipeline.ingest_paths([corpus], progress)
    if failures:
        raise RuntimeError(f"{len(failures)} generated articles failed: {failures[0]}")
    return time.perf_counter() - started, sum(r.chunks for r in results)


def _recall(pipeline: Pipeline, data_dir: Path, collection: str, queries: np.ndarray, k: int) -> float:
    """Mean share of the exact top-k (brute force over every vector Chroma stores, float32) that the pipeline's dense
    search (the in-process int8 index) returns."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    client = chromadb.PersistentClient(path=str(data_dir), settings=ChromaSettings(anonymized_telemetry=False))
    store = client.get_collection(collection)
    ids: list[str] = []
    blocks = []
    offset = 0
    while True:
        page = store.get(include=["embeddings"], limit=5000, offset=offset)
        ids.extend(page["ids"])
        blocks.append(np.asarray(page["embeddings"], dtype=np.float32))
        if len(page["ids"]) < 5000:
            break
        offset += 5000
    matrix = np.vstack(blocks)
    found = [pipeline.nearest_chunks(vector, k) for vector in queries]
    shares = []
    for vector, approximate in zip(queries, found, strict=True):
        exact = {ids[i] for i in np.argpartition(-(matrix @ vector), k)[:k]}
        shares.append(len(exact & set(approximate)) / k)
    return float(np.mean(shares))


def measure_ours(articles: list[GeneratedArticle], replay: ReplayEmbedder, scratch: Path, label: str, real: bool) -> dict[str, float]:
    """Ingest, re-ingest, in-process and HTTP latency, concurrency, memory, disk and recall for our pipeline."""
    data_dir = scratch / f"ours-{label}"
    corpus = _write_corpus(articles, scratch / f"corpus-{label}")
    settings = Settings(data_dir=data_dir, answerer="extractive", answer_check="off")
    pipeline = build(settings, embedder=replay)
    pipeline.prepare(answerer=False)  # as `rag ingest` does: the keyword index follows every write
    ingest_s, chunks = _ingest(pipeline, corpus, f"ours {label} ingest")
    pipeline.close()  # ... and is saved for the server's start
    started = time.perf_counter()
    again, _ = pipeline.ingest_paths([corpus])
    reingest_s = time.perf_counter() - started
    assert all(result.status == "unchanged" for result in again)

    sample = random.Random(label).sample(articles, min(QUESTIONS, len(articles)))
    questions = [g.question for g in sample]
    first = pipeline.retrieve(questions[0])  # builds the keyword index once, as the first question does
    del first
    hits = sum(any(p.document.id == g.id for p in pipeline.retrieve(g.question)) for g in sample) / len(sample)
    hits = hits if real else None  # replayed passage vectors carry no meaning to find answers by
    retrieve_p50, retrieve_p95 = percentiles(timed_ms(lambda i, p=pipeline: p.retrieve(f"{questions[i]} <{i}>"), len(questions)))
    ask_p50, ask_p95 = percentiles(timed_ms(lambda i, p=pipeline: p.ask(f"{questions[i]} ({i})"), len(questions)))
    query_vectors = np.vstack([replay.embed_query(q) for q in questions[:RECALL_QUERIES]])
    recall = _recall(pipeline, data_dir, settings.collection, query_vectors, settings.candidates)
    del pipeline
    release_store(data_dir)

    figures = {
        "chunks": chunks, "ingest_chunks_per_s": chunks / ingest_s, "reingest_s": reingest_s, "ingest_s": ingest_s,
        "hit_at_5": hits, "retrieve_p50_ms": retrieve_p50, "retrieve_p95_ms": retrieve_p95, "ask_p50_ms": ask_p50, "ask_p95_ms": ask_p95, "recall_at_candidates": recall,
        "disk_mb": disk_mb(data_dir),
    }
    with serve(data_dir, questions[0]) as server:
        figures["first_answer_s"] = server.first_answer_s or float("nan")
        http = http_latencies(server.client, questions[::-1], QUESTIONS)  # reversed: not the in-process cache order
        figures["http_p50_ms"], figures["http_p95_ms"] = percentiles(http)
        throughput, p95, failures = concurrent_clients(str(server.client.base_url), [f"{q} ({i})" for i, q in enumerate(questions)], CLIENTS, PER_CLIENT)
        figures.update(concurrent_per_s=throughput, concurrent_p95_ms=p95, concurrent_failures=failures)
        figures["rss_mb"], figures["peak_rss_mb"] = server.memory_mb()
    with serve(data_dir, questions[1]) as server:  # a restart: the keyword index saved by the first run is loaded
        figures["restart_answer_s"] = server.first_answer_s or float("nan")
    return figures


def measure_baseline(articles: list[GeneratedArticle], questions: list[dict[str, str]], pool: np.ndarray | None, scratch: Path, label: str) -> dict[str, float]:
    """The naive LlamaIndex pipeline on the same articles, in its own process (vectors replayed when `pool`)."""
    corpus = scratch / f"baseline-{label}.jsonl"
    corpus.write_text("".join(json.dumps({"id": g.id, "title": g.title, "text": g.text}) + "\n" for g in articles))
    asked = scratch / f"questions-{label}.jsonl"
    asked.write_text("".join(json.dumps(q) + "\n" for q in questions))
    command = [sys.executable, "-m", "bench.baseline", "--corpus", str(corpus), "--questions", str(asked)]
    if pool is not None:
        np.save(scratch / "pool.npy", pool)
        command += ["--pool", str(scratch / "pool.npy")]
    run = subprocess.run(command, capture_output=True, text=True, timeout=7200, check=False)
    if run.returncode != 0:
        print(f"  baseline {label} failed: {run.stderr.strip()[-500:]}", file=sys.stderr)
        return {}
    return dict(json.loads(run.stdout.strip().splitlines()[-1]))


def run(sizes: list[int]) -> list[SizeResult]:
    """Every size, smallest first (it records the real vectors the larger ones replay)."""
    sizes = sorted(sizes)
    settings = Settings()
    replay = ReplayEmbedder(build_embedder(settings.embedder, settings.embed_threads, settings.model_dir))
    results = []
    with tempfile.TemporaryDirectory(prefix="rag-scale-") as folder:
        scratch = Path(folder)
        for size in sizes:
            label = f"{size // 1000}k" if size >= 1000 else str(size)
            articles = [generate_article(i) for i in range(max(1, size // CHUNKS_PER_ARTICLE))]
            replay.recording = size == sizes[0]
            print(f"corpus {label}: {len(articles)} articles, passages {'embedded' if replay.recording else 'replayed'}", file=sys.stderr, flush=True)
            result = SizeResult(label, measure_ours(articles, replay, scratch, label, real=replay.recording))
            replay.recording = False
            questions = [
                {"question": g.question, "document_id": g.id}
                for g in random.Random(label).sample(articles, min(QUESTIONS, len(articles)))
            ]
            real = size == sizes[0]
            result.baseline = measure_baseline(articles, questions, None if real else replay.pool(), scratch, label)
            if not real:
                result.baseline.pop("hit_at_5", None)
            results.append(result)
            for path in scratch.glob(f"*-{label}*"):
                subprocess.run(["rm", "-rf", str(path)], check=False)
    return results


_ROWS = (
    # (label, our key, baseline key, which way is better: "higher", "lower", or None for no ratio)
    ("chunks", "chunks", "chunks", None),
    ("ingest chunks/s", "ingest_chunks_per_s", "ingest_chunks_per_s", "higher"),
    ("ingest (s)", "ingest_s", None, None),
    ("re-ingest unchanged (s)", "reingest_s", None, None),
    ("in-process retrieval p50 (ms)", "retrieve_p50_ms", "retrieve_p50_ms", "lower"),
    ("in-process ask p50 (ms), retrieval + answer", "ask_p50_ms", None, None),
    ("in-process ask p95 (ms)", "ask_p95_ms", "retrieve_p95_ms", None),
    ("HTTP /v1/ask p50 (ms)", "http_p50_ms", None, None),
    ("HTTP /v1/ask p95 (ms)", "http_p95_ms", None, None),
    ("20 clients: answers/s", "concurrent_per_s", None, None),
    ("20 clients: p95 (ms)", "concurrent_p95_ms", None, None),
    ("start to first answer, first start after ingest (s)", "first_answer_s", "start_to_first_retrieval_s", "lower"),
    ("start to first answer, restart (s)", "restart_answer_s", "start_to_first_retrieval_s", "lower"),
    ("server RSS (MB)", "rss_mb", "rss_mb", "lower"),
    ("peak RSS (MB)", "peak_rss_mb", None, None),
    ("disk (MB)", "disk_mb", "disk_mb", "lower"),
    ("hit@5 (article of the answer)", "hit_at_5", "hit_at_5", "higher"),
    ("recall@30 vs exact search", "recall_at_candidates", None, None),
)


def table(results: list[SizeResult]) -> str:
    """A Markdown table: one row per measure; per size our figure, the baseline's, and ours as a ratio to it
    (above 1 means better than the baseline, whichever way the measure goes)."""
    header = ["measure"] + [f"{r.label} {column}" for r in results for column in ("ours", "baseline", "ratio")]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, ours_key, base_key, better in _ROWS:
        cells = [name]
        for result in results:
            ours = result.ours.get(ours_key)
            base = result.baseline.get(base_key) if base_key else None
            ratio = None
            if better and ours and base:
                ratio = ours / base if better == "higher" else base / ours
            cells += [_fmt(ours), _fmt(base), f"{ratio:.1f}x" if ratio else "—"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _fmt(value: float | None) -> str:
    if value is None:
        return "—"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:.3f}" if abs(value) < 1 else f"{value:.1f}"
