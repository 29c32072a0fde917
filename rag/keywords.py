"""Keyword search over every stored chunk: a BM25 index built from the store once, kept up to date write by
write, and saved beside an embedded store so a restart loads it instead of re-reading every chunk."""

import json
import logging
import math
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from rag.bm25 import Bm25Index
from rag.store import ChunkStore, DocumentWrite
from rag.terms import index_terms
from rag.types import Filters

log = logging.getLogger("rag.keywords")
_SNAPSHOT_VERSION = 2  # 2: irregular verb forms indexed as their base form

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

    def __init__(self, store: ChunkStore, snapshot: Path | None = None) -> None:
        self._store = store
        self._snapshot = None if store.shared else snapshot
        self._lock = threading.Lock()
        self._built = False
        self._saved = False
        self._index = Bm25Index()
        self._entries: list[_KeywordEntry] = []  # by slot
        self._slots_of: dict[str, list[int]] = {}  # document id -> its live slots
        self._generation: str | None = None

    def mark_changed(self) -> None:
        """The store changed in ways not told here: rebuild from it before the next search."""
        self._built = False

    def refresh(self) -> None:
        """Rebuild before the next search if another process wrote to a shared store since the last build."""
        if not self._store.shared:
            return  # an embedded store has one writer: this process, which tells the index of every write
        generation = self._store.generation()
        if generation != self._generation:
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
            self._generation, self._saved = self._store.generation(), False

    def removed(self, document_id: str) -> None:
        """Every chunk of this article was deleted from the store."""
        if self._store.shared:
            self.mark_changed()
            return
        with self._lock:
            if self._built:
                self._forget(document_id)
                self._compact_if_needed()
                self._generation, self._saved = self._store.generation(), False

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
            self._compact()

    def _compact(self) -> None:
        kept = self._index.compact()
        self._entries = [self._entries[i] for i in kept]
        self._slots_of = {}
        for slot, entry in enumerate(self._entries):
            self._slots_of.setdefault(entry.document_id, []).append(slot)

    def warm(self) -> None:
        """Build (or load) the index now rather than at the first question, and save it if it was built."""
        with self._lock:
            self._ensure_built()
        self.save()

    def save(self) -> None:
        """Write the index beside an embedded store (atomically) if it changed since it was loaded or saved."""
        with self._lock:
            if self._snapshot is None or not self._built or self._saved:
                return
            self._compact()
            terms, arrays = self._index.export()
            entries = [[e.chunk_id, e.document_id, e.source, e.published_day] for e in self._entries]
            meta = {"version": _SNAPSHOT_VERSION, "generation": self._generation, "terms": terms, "entries": entries}
            partial = self._snapshot.with_suffix(".partial.npz")
            try:
                np.savez(partial, meta=np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8), **arrays)
                os.replace(partial, self._snapshot)
                self._saved = True
            except OSError as exc:
                log.warning("could not save the keyword index to %s: %s", self._snapshot, exc)

    def _load(self) -> bool:
        """(Under the lock.) The saved index, if it describes the store as it is now."""
        if self._snapshot is None or not self._snapshot.is_file():
            return False
        generation = self._store.generation()
        try:
            with np.load(self._snapshot) as saved:
                meta = json.loads(saved["meta"].tobytes())
                if meta.get("version") != _SNAPSHOT_VERSION or meta.get("generation") != generation:
                    return False
                index = Bm25Index.restore(meta["terms"], {k: saved[k] for k in ("offsets", "slots", "frequencies", "lengths")})
        except (OSError, ValueError, KeyError) as exc:
            log.warning("ignoring the unreadable keyword index %s: %s", self._snapshot, exc)
            return False
        entries = [_KeywordEntry(str(c), str(d), s, day) for c, d, s, day in meta["entries"]]
        if len(entries) != index.slots:
            return False
        self._index, self._entries, self._generation = index, entries, generation
        self._slots_of = {}
        for slot, entry in enumerate(entries):
            self._slots_of.setdefault(entry.document_id, []).append(slot)
        self._built, self._saved = True, True
        return True

    def _ensure_built(self) -> None:
        """(Under the lock.) Index every stored chunk, once, or again after `mark_changed`: from the saved index
        when it is current, else by reading the store (then saved for the next start)."""
        if self._built or self._load():
            return
        generation = self._store.generation()
        index, entries, slots_of = Bm25Index(), [], {}
        for chunk_id, text, meta in self._store.all_chunks():
            document_id = str(meta["document_id"])
            slots_of.setdefault(document_id, []).append(index.add(_chunk_terms(str(meta.get("title", "")), int(meta["chunk_index"]), text)))
            entries.append(_KeywordEntry(chunk_id, document_id, meta.get("source"), meta.get("published_day")))
        self._index, self._entries, self._slots_of, self._built = index, entries, slots_of, True
        self._generation, self._saved = generation, False


def _day(published: date | None) -> int | None:
    return published.toordinal() if published else None
