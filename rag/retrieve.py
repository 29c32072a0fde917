"""Find the passages for a question: dense vectors (the in-process int8 index beside an embedded store, the Chroma
server's own index when shared) and BM25 keywords, fused by rank."""

import threading
from concurrent.futures import Executor, ThreadPoolExecutor

import numpy as np

from rag.embed import Embedder
from rag.local_index import LocalIndex
from rag.store import ChunkStore, StoredChunk
from rag.terms import terms
from rag.types import Filters, Passage

_RRF_K = 60
# Dense ranks count more than keyword ranks: BM25 alone misses paraphrases ("jobs cut" vs "workforce reduced").
_DENSE_WEIGHT = 1.0
_KEYWORD_WEIGHT = 0.25


class Retriever:
    """Dense and keyword search over one store, fused by reciprocal rank."""

    def __init__(self, store: ChunkStore, embedder: Embedder, index: LocalIndex, candidates: int) -> None:
        self._store = store
        self._embedder = embedder
        self._index = index
        self._candidates = candidates
        self._encoder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="query-encoder")
        self._in_flight = 0  # questions being retrieved now
        self._in_flight_lock = threading.Lock()

    def close(self) -> None:
        """Stop the encoder's thread once its queries are done (a later query starts it again)."""
        self._encoder.shutdown(wait=True)
        self._encoder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="query-encoder")

    def retrieve(self, question: str, top_k: int, filters: Filters) -> list[Passage]:
        """The `top_k` best passages for the question, best first, each with fused, dense and keyword scores."""
        with self._in_flight_lock:
            self._in_flight += 1
        try:
            return self._retrieve(question, top_k, filters)
        finally:
            with self._in_flight_lock:
                self._in_flight -= 1

    def _retrieve(self, question: str, top_k: int, filters: Filters) -> list[Passage]:
        self._index.refresh()
        # The encoder runs outside the GIL: the keyword search goes on meanwhile (~0.5 ms of ~4 at 10k chunks).
        embedding = self._encoder.submit(self._embedder.embed_query, question)
        keyword = self._index.search(terms(question), self._candidates, filters)
        query_vector = embedding.result()
        # A question asked alone lends the encoder's thread (idle now) to the dense scan; under load each question
        # keeps to one thread, and the other core serves another question.
        dense = self.dense(query_vector, self._candidates, filters, self._encoder if self._in_flight == 1 else None)

        fused: dict[str, float] = {}
        for rank, (chunk_id, _) in enumerate(dense):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + _DENSE_WEIGHT / (_RRF_K + rank + 1)
        for rank, (chunk_id, _) in enumerate(keyword):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + _KEYWORD_WEIGHT / (_RRF_K + rank + 1)
        best = sorted(fused, key=lambda cid: -fused[cid])[:top_k]

        similarity, keyword_score = dict(dense), dict(keyword)
        return [
            Passage(
                chunk=stored.chunk,
                document=stored.document,
                score=fused[stored.chunk.id],
                dense_score=similarity.get(stored.chunk.id, 0.0),
                keyword_score=keyword_score.get(stored.chunk.id, 0.0),
                sentence_scores=_sentence_similarities(stored, query_vector),
            )
            for stored in self._chunks(best)
        ]

    def _chunks(self, chunk_ids: list[str]) -> list[StoredChunk]:
        """The kept chunks, in order: from the in-process record file beside an embedded store, else the store."""
        if self._index.searches_vectors:
            return self._index.chunks(chunk_ids)
        return self._store.get_chunks(chunk_ids)

    def dense(self, query_vector: np.ndarray, n: int, filters: Filters, helper: Executor | None = None) -> list[tuple[str, float]]:
        """The `n` chunks nearest the query vector, with cosine similarities: the in-process index beside an
        embedded store (scoring part of the rows on the `helper` thread when given), the Chroma server's index when
        shared."""
        if self._index.searches_vectors:
            return self._index.dense_search(query_vector, n, filters, helper)
        return self._store.dense_search(query_vector, n, filters)


def _sentence_similarities(stored: StoredChunk, query_vector: np.ndarray) -> tuple[float, ...]:
    """Cosine similarity of the query to each sentence of the chunk (empty when vectors are missing)."""
    if stored.sentence_vectors is None:
        return ()
    return tuple(float(x) for x in stored.sentence_vectors @ query_vector)
