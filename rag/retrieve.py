"""Find the passages for a question: dense vectors (Chroma) and BM25 keywords (bm25s), fused by rank."""

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rag.embed import Embedder
from rag.store import ChunkStore, StoredChunk
from rag.terms import index_terms, terms
from rag.types import Filters, Passage

_RRF_K = 60
# Dense ranks count more than keyword ranks: BM25 alone misses paraphrases ("jobs cut" vs "workforce reduced").
_DENSE_WEIGHT = 1.0
_KEYWORD_WEIGHT = 0.25


@dataclass(frozen=True)
class _KeywordEntry:
    chunk_id: str
    document_id: str
    source: str | None
    published_day: int | None


class KeywordIndex:
    """BM25 over every stored chunk; rebuilt once after writes, never per query."""

    def __init__(self, store: ChunkStore) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._dirty = True
        self._entries: list[_KeywordEntry] = []
        self._document_frequency: dict[str, int] = {}
        self._bm25: object | None = None
        self._generation: str | None = None

    def mark_changed(self) -> None:
        """The store was written: rebuild before the next search."""
        self._dirty = True

    def refresh(self) -> None:
        """Rebuild before the next search if another process wrote to a shared store since the last build."""
        generation = self._store.generation()
        if generation is not None and generation != self._generation:
            self._generation = generation
            self._dirty = True

    def search(self, query_terms: Sequence[str], n: int, filters: Filters) -> list[tuple[str, float]]:
        """Up to `n` (chunk id, BM25 score) pairs with a positive score that pass the filters."""
        self._ensure_built()
        if self._bm25 is None or not query_terms:
            return []
        scores = np.asarray(self._bm25.get_scores(list(query_terms)), dtype=np.float32)  # type: ignore[attr-defined]
        mask = self._filter_mask(filters)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        top = np.argsort(-scores)[:n]
        return [(self._entries[i].chunk_id, float(scores[i])) for i in top if scores[i] > 0]

    def idf(self, term: str) -> float:
        """Inverse document frequency of a term over the chunks (high for rare terms, 0 for unseen ones)."""
        self._ensure_built()
        df = self._document_frequency.get(term, 0)
        if df == 0:
            return 0.0
        n = len(self._entries)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def unseen_idf(self) -> float:
        """The IDF a term in no chunk would have: the weight of a question word the articles never use."""
        self._ensure_built()
        n = len(self._entries)
        return math.log(1 + (n + 0.5) / 0.5)

    def knows(self, term: str) -> bool:
        """Whether any chunk contains this term."""
        self._ensure_built()
        return term in self._document_frequency

    def _filter_mask(self, filters: Filters) -> np.ndarray | None:
        if filters == Filters():
            return None
        wanted = set(filters.document_ids)
        low = filters.published_from.toordinal() if filters.published_from else None
        high = filters.published_to.toordinal() if filters.published_to else None

        def passes(entry: _KeywordEntry) -> bool:
            if wanted and entry.document_id not in wanted:
                return False
            if filters.source and entry.source != filters.source:
                return False
            if low is not None and (entry.published_day is None or entry.published_day < low):
                return False
            return high is None or (entry.published_day is not None and entry.published_day <= high)

        return np.array([passes(entry) for entry in self._entries], dtype=bool)

    def _ensure_built(self) -> None:
        if not self._dirty:
            return
        with self._lock:
            if not self._dirty:
                return
            self._dirty = False
            entries: list[_KeywordEntry] = []
            corpus: list[list[str]] = []
            frequency: dict[str, int] = {}
            for chunk_id, text, meta in self._store.all_chunks():
                chunk_terms = index_terms(f"{meta.get('title', '')}\n{text}" if meta.get("chunk_index") == 0 else text)
                entries.append(
                    _KeywordEntry(chunk_id, str(meta["document_id"]), meta.get("source"), meta.get("published_day"))
                )
                corpus.append(list(chunk_terms))
                for term in set(chunk_terms):
                    frequency[term] = frequency.get(term, 0) + 1
            bm25 = None
            if corpus:
                import bm25s

                bm25 = bm25s.BM25()
                bm25.index(corpus, show_progress=False)
            self._entries, self._document_frequency, self._bm25 = entries, frequency, bm25


class Retriever:
    """Dense and keyword search over one store, fused by reciprocal rank."""

    def __init__(self, store: ChunkStore, embedder: Embedder, keywords: KeywordIndex, candidates: int) -> None:
        self._store = store
        self._embedder = embedder
        self._keywords = keywords
        self._candidates = candidates

    def retrieve(self, question: str, top_k: int, filters: Filters) -> list[Passage]:
        """The `top_k` best passages for the question, best first, each with fused, dense and keyword scores."""
        self._keywords.refresh()
        query_vector = self._embedder.embed_query(question)
        dense = self._store.dense_search(query_vector, self._candidates, filters)
        keyword = self._keywords.search(terms(question), self._candidates, filters)

        fused: dict[str, float] = {}
        for rank, hit in enumerate(dense):
            fused[hit.stored.chunk.id] = fused.get(hit.stored.chunk.id, 0.0) + _DENSE_WEIGHT / (_RRF_K + rank + 1)
        for rank, (chunk_id, _) in enumerate(keyword):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + _KEYWORD_WEIGHT / (_RRF_K + rank + 1)
        best = sorted(fused, key=lambda cid: -fused[cid])[:top_k]

        stored: dict[str, StoredChunk] = {hit.stored.chunk.id: hit.stored for hit in dense}
        similarity = {hit.stored.chunk.id: hit.similarity for hit in dense}
        missing = [cid for cid in best if cid not in stored]
        for extra in self._store.get_chunks(missing):
            stored[extra.chunk.id] = extra
        keyword_score = dict(keyword)
        return [
            Passage(
                chunk=stored[cid].chunk,
                document=stored[cid].document,
                score=fused[cid],
                dense_score=similarity.get(cid, 0.0),
                keyword_score=keyword_score.get(cid, 0.0),
                sentence_scores=_sentence_similarities(stored[cid], query_vector),
            )
            for cid in best
            if cid in stored
        ]


def _sentence_similarities(stored: StoredChunk, query_vector: np.ndarray) -> tuple[float, ...]:
    """Cosine similarity of the query to each sentence of the chunk (empty when vectors are missing)."""
    if stored.sentence_vectors is None:
        return ()
    return tuple(float(x) for x in stored.sentence_vectors @ query_vector)
