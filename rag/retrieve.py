"""Find the passages for a question: dense vectors (Chroma) and BM25 keywords (rag.bm25), fused by rank."""

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from rag.embed import Embedder
from rag.bm25 import Bm25Index
from rag.store import ChunkStore, DocumentWrite, StoredChunk
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


def _chunk_terms(title: str, chunk_index: int, text: str) -> tuple[str, ...]:
    """A chunk's index terms; an article's first chunk also carries its headline."""
    return index_terms(f"{title}\n{text}" if chunk_index == 0 else text)


class KeywordIndex:
    """BM25 over every stored chunk: built from the store once, then kept up to date write by write (a shared
    store, written by other processes too, is rebuilt when its generation stamp changes)."""

    def __init__(self, store: ChunkStore) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._built = False
        self._index = Bm25Index()
        self._entries: list[_KeywordEntry] = []  # by slot
        self._slots_of: dict[str, list[int]] = {}  # document id -> its live slots
        self._generation: str | None = None

    def mark_changed(self) -> None:
        """The store changed in ways not told here: rebuild from it before the next search."""
        self._built = False

    def refresh(self) -> None:
        """Rebuild before the next search if another process wrote to a shared store since the last build."""
        generation = self._store.generation()
        if generation is not None and generation != self._generation:
            self._generation = generation
            self._built = False

    def written(self, writes: Sequence[DocumentWrite]) -> None:
        """These articles' new versions were stored: index their chunks in place of the old ones."""
        if self._store.shared:
            self.mark_changed()  # other processes write too: the generation stamp decides
            return
        with self._lock:
            if not self._built:
                return
            for write in writes:
                self._forget(write.document.id)
                slots = self._slots_of.setdefault(write.document.id, [])
                for chunk in write.chunks:
                    slots.append(self._index.add(_chunk_terms(write.document.title, chunk.index, chunk.text)))
                    entry = _KeywordEntry(chunk.id, write.document.id, write.document.source, _day(write.document.published))
                    self._entries.append(entry)
            self._compact_if_needed()

    def removed(self, document_id: str) -> None:
        """Every chunk of this article was deleted from the store."""
        if self._store.shared:
            self.mark_changed()
            return
        with self._lock:
            if self._built:
                self._forget(document_id)
                self._compact_if_needed()

    def search(self, query_terms: Sequence[str], n: int, filters: Filters) -> list[tuple[str, float]]:
        """Up to `n` (chunk id, BM25 score) pairs with a positive score that pass the filters."""
        with self._lock:
            self._ensure_built()
            if not query_terms or not self._index.live:
                return []
            scores = self._index.scores(query_terms)
            if filters != Filters():
                scores = self._filtered(scores, filters)
            hits = np.flatnonzero(scores > 0)
            if len(hits) > n:
                hits = hits[np.argpartition(-scores[hits], n)[:n]]
            hits = hits[np.argsort(-scores[hits])]
            return [(self._entries[i].chunk_id, float(scores[i])) for i in hits]

    def idf(self, term: str) -> float:
        """Inverse document frequency of a term over the chunks (high for rare terms, 0 for unseen ones)."""
        with self._lock:
            self._ensure_built()
            return self._index.idf(term) if self._index.document_frequency(term) else 0.0

    def unseen_idf(self) -> float:
        """The IDF a term in no chunk would have: the weight of a question word the articles never use."""
        with self._lock:
            self._ensure_built()
            n = self._index.live
        return math.log(1 + (n + 0.5) / 0.5)

    def knows(self, term: str) -> bool:
        """Whether any chunk contains this term."""
        with self._lock:
            self._ensure_built()
            return self._index.document_frequency(term) > 0

    def _filtered(self, scores: np.ndarray, filters: Filters) -> np.ndarray:
        """The scores with every chunk the filters exclude set to 0 (only scored chunks are looked at)."""
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

        for slot in np.flatnonzero(scores > 0):
            if not passes(self._entries[slot]):
                scores[slot] = 0.0
        return scores

    def _forget(self, document_id: str) -> None:
        for slot in self._slots_of.pop(document_id, []):
            self._index.remove(slot)

    def _compact_if_needed(self) -> None:
        if self._index.needs_compaction():
            kept = self._index.compact()
            self._entries = [self._entries[i] for i in kept]
            self._slots_of = {}
            for slot, entry in enumerate(self._entries):
                self._slots_of.setdefault(entry.document_id, []).append(slot)

    def _ensure_built(self) -> None:
        """(Under the lock.) Index every stored chunk, once, or again after `mark_changed`."""
        if self._built:
            return
        index, entries, slots_of = Bm25Index(), [], {}
        for chunk_id, text, meta in self._store.all_chunks():
            document_id = str(meta["document_id"])
            slots_of.setdefault(document_id, []).append(index.add(_chunk_terms(str(meta.get("title", "")), int(meta["chunk_index"]), text)))
            entries.append(_KeywordEntry(chunk_id, document_id, meta.get("source"), meta.get("published_day")))
        self._index, self._entries, self._slots_of, self._built = index, entries, slots_of, True


def _day(published: date | None) -> int | None:
    return published.toordinal() if published else None


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
            for stored in self._store.get_chunks(best)
        ]


def _sentence_similarities(stored: StoredChunk, query_vector: np.ndarray) -> tuple[float, ...]:
    """Cosine similarity of the query to each sentence of the chunk (empty when vectors are missing)."""
    if stored.sentence_vectors is None:
        return ()
    return tuple(float(x) for x in stored.sentence_vectors @ query_vector)
