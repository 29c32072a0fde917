"""Every stored chunk indexed in process: BM25 keywords and, beside an embedded store, its vector (rag/vectors.py)
and its record (rag/records.py), so that answering a question does not touch Chroma. Built from the store once,
kept up to date write by write, and saved beside an embedded store so a restart loads it instead of re-reading
every chunk."""

import json
import logging
import math
import os
import threading
from sys import intern
from collections.abc import Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np

from rag.bm25 import Bm25Index
from rag.errors import StoreError
from rag.records import ChunkRecord, RecordFile
from rag.store import ChunkStore, DocumentWrite, StoredChunk, chunk_metadata, stored_chunk
from rag.terms import index_terms
from rag.types import Filters
from rag.vectors import VectorIndex, quantized, rescored

log = logging.getLogger("rag.local_index")
_SNAPSHOT_VERSION = 5  # 2: irregular verb forms as their base form; 3: chunk vectors and records; 4: slots as arrays; 5: accents folded

@dataclass
class _Slots:
    """What each slot holds, by slot: its chunk's id, its article's id, source and publication day (None: none)."""

    chunk_ids: list[str] = field(default_factory=list)
    document_ids: list[str] = field(default_factory=list)
    sources: list[str | None] = field(default_factory=list)
    days: list[int | None] = field(default_factory=list)
    _arrays: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)  # sources and days, for filters

    def __len__(self) -> int:
        return len(self.chunk_ids)

    def filter_columns(self) -> tuple[np.ndarray, np.ndarray]:
        """(sources, publication days with 0 for none) as arrays, made on the first filtered search after a change."""
        if self._arrays is None:
            self._arrays = (np.array(self.sources, dtype=object), np.array([day or 0 for day in self.days], dtype=np.int64))
        return self._arrays

    def append(self, chunk_id: str, document_id: str, source: str | None, day: int | None) -> None:
        self._arrays = None
        self.chunk_ids.append(chunk_id)
        self.document_ids.append(intern(document_id))
        self.sources.append(intern(source) if source else None)
        self.days.append(day)

    def taken(self, kept: np.ndarray) -> "_Slots":
        """Only these slots, renumbered in order."""
        chunk_ids, document_ids, sources, days = ([column[i] for i in kept] for column in (self.chunk_ids, self.document_ids, self.sources, self.days))
        return _Slots(chunk_ids, document_ids, sources, days)

    def export(self) -> dict[str, np.ndarray]:
        """Arrays to save (texts as newline-joined UTF-8: ids never hold a newline); `restore` reads them back."""
        def joined(texts: list[str]) -> np.ndarray:
            return np.frombuffer("\n".join(texts).encode("utf-8"), dtype=np.uint8)

        return {
            "slot_chunk_ids": joined(self.chunk_ids),
            "slot_document_ids": joined(self.document_ids),
            "slot_sources": joined([source or "" for source in self.sources]),
            "slot_days": np.array([day or 0 for day in self.days], dtype=np.int64),
        }

    @classmethod
    def restore(cls, arrays: dict[str, np.ndarray]) -> "_Slots":
        count = len(arrays["slot_days"])

        def split(key: str) -> list[str]:
            texts = arrays[key].tobytes().decode("utf-8").split("\n") if count else []
            if len(texts) != count:
                raise ValueError(f"{key} holds {len(texts)} entries for {count} slots")
            return texts

        documents = [intern(d) for d in split("slot_document_ids")]
        sources = [intern(s) if s else None for s in split("slot_sources")]
        days = [int(day) or None for day in arrays["slot_days"].tolist()]
        return cls(split("slot_chunk_ids"), documents, sources, days)


def _chunk_terms(title: str, chunk_index: int, text: str) -> tuple[str, ...]:
    """A chunk's index terms; an article's first chunk also carries its headline."""
    return index_terms(f"{title}\n{text}" if chunk_index == 0 else text)


class LocalIndex:
    """BM25 over every stored chunk and, beside an embedded store, the chunks' vectors and records: built from the
    store once, then kept up to date write by write. A shared store (a Chroma server, written by other processes too)
    is indexed for keywords only, rebuilt when its generation stamp changes; the server searches vectors and serves
    chunks."""

    def __init__(self, store: ChunkStore, snapshot: Path | None = None, reading: "Future[SavedIndex | None] | None" = None) -> None:
        self._store = store
        self._snapshot = None if store.shared else snapshot
        self._reading = reading  # the snapshot as read in the background since start (`reading_saved_index`), once
        # On a Chroma server every other process's write would mean re-reading every vector: the server searches.
        self._records = RecordFile(self._snapshot.with_suffix(".chunks"), store.dimension) if self._snapshot is not None else None
        self._locations = np.zeros((0, 2), dtype=np.int64)  # by slot: (offset, length) of its record
        self._slot_of: dict[str, int] = {}  # chunk id -> live slot
        self._lock = threading.Lock()
        self._built = False
        self._saved = False
        self._index = Bm25Index()
        self._vectors = VectorIndex(store.dimension)
        self._slots = _Slots()
        self._slots_of: dict[str, list[int]] = {}  # document id -> its live slots
        self._generation: str | None = None
        self._layout = 0  # bumped whenever slots are renumbered or the records move
        self._scores = np.zeros(0, dtype=np.float32)  # BM25 scores of every slot, reused by each search (under the lock)

    @property
    def searches_vectors(self) -> bool:
        """Whether `dense_search` and `chunks` answer here (an embedded store) rather than the store itself."""
        return self._records is not None

    def chunks(self, chunk_ids: Sequence[str]) -> list[StoredChunk]:
        """The chunks with these ids, in the order asked (unknown ones left out), read from the record file."""
        assert self._records is not None, "a shared store serves its own chunks"
        with self._lock:
            self._ensure_built()
            slots = [self._slot_of[cid] for cid in chunk_ids if cid in self._slot_of]
            return [stored_chunk(*record) for record in self._records.read(self._locations[slots])]

    def live_chunks(self) -> int:
        """How many chunks are indexed."""
        with self._lock:
            self._ensure_built()
            return self._index.live

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

    def before_write(self) -> None:
        """The store is about to change: a saved index stops describing it. It is removed now, not replaced at the
        end, so that a process killed between the store's write and its new generation stamp (a Chroma upsert of
        ~30 ms: cheaper to delete a file than to stamp twice) does not leave an index a restart would load."""
        with self._lock:
            if self._snapshot is not None:
                try:
                    self._snapshot.unlink(missing_ok=True)
                except OSError as exc:
                    log.warning("could not remove the saved local index %s: %s", self._snapshot, exc)
                self._saved = False

    def written(self, writes: Sequence[DocumentWrite]) -> None:
        """These articles' new versions were stored: index their chunks in place of the old ones."""
        if self._store.shared:
            self.mark_changed()  # other processes write too: the generation stamp decides
            return
        with self._lock:
            if not self._built:
                return
            written = [write for write in writes if len(write.chunks)]
            if self._records is not None:
                try:  # first, so that a failed append leaves the index as it was
                    appended = [self._records.append(_records_of(write), write.vectors) for write in written]
                except StoreError as exc:
                    log.warning("%s; the local index will be rebuilt from the store", exc)
                    self._built = False
                    return
            for write in writes:
                self._forget(write.document.id)
                slots = self._slots_of.setdefault(write.document.id, [])
                for chunk in write.chunks:
                    slot = self._index.add(_chunk_terms(write.document.title, chunk.index, chunk.text))
                    slots.append(slot)
                    self._slot_of[chunk.id] = slot
                    self._slots.append(chunk.id, write.document.id, write.document.source, _day(write.document.published))
            if self._records is not None:
                for write, locations in zip(written, appended, strict=True):
                    self._vectors.add(write.vectors)
                    self._locations = np.vstack([self._locations, locations])
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
            if len(self._scores) < self._index.slots:
                self._scores = np.zeros(self._index.slots + self._index.slots // 2, dtype=np.float32)
            scores = self._index.scores(query_terms, out=self._scores)
            allowed = self._allowed(filters)
            if allowed is not None:
                scores *= allowed
            hits = np.flatnonzero(scores > 0)
            if len(hits) > n:
                hits = hits[np.argpartition(-scores[hits], n)[:n]]
            hits = hits[np.argsort(-scores[hits])]
            return [(self._slots.chunk_ids[i], float(scores[i])) for i in hits]

    def dense_search(self, vector: np.ndarray, n: int, filters: Filters, helper: Executor | None = None) -> list[tuple[str, float]]:
        """Up to `n` (chunk id, cosine similarity) pairs nearest the unit vector that pass the filters, best first
        (an embedded store only: see `searches_vectors`). The int8 scoring (~2 ms at 100k chunks; part of it on the
        `helper` thread when given) runs outside the lock, so concurrent questions do not queue behind it; a write
        that renumbered the slots meanwhile makes it run again."""
        if self._records is None:
            raise RuntimeError("a shared store is searched by its own vector index")
        while True:
            with self._lock:
                self._ensure_built()
                layout = self._layout
                excluded = ~self._index.alive_mask()
                allowed = self._allowed(filters)
                if allowed is not None:
                    excluded |= ~allowed
                search = self._vectors.search()
            candidates = search.candidates(vector, n, excluded if excluded.any() else None, helper)
            with self._lock:
                if layout != self._layout:
                    continue
                exact = self._records.vectors
                found = rescored(candidates, vector, n, lambda slots: exact(self._locations[slots]))
                return [(self._slots.chunk_ids[slot], score) for slot, score in found]

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

    def _allowed(self, filters: Filters) -> np.ndarray | None:
        """(Under the lock.) Which slots pass the filters, as a boolean mask (None when unfiltered)."""
        if filters == Filters():
            return None
        allowed = np.ones(len(self._slots), dtype=bool)
        if filters.document_ids:
            chosen = np.zeros(len(self._slots), dtype=bool)
            for document_id in set(filters.document_ids):
                chosen[self._slots_of.get(document_id, [])] = True
            allowed &= chosen
        if filters.source or filters.published_from or filters.published_to:
            sources, days = self._slots.filter_columns()
            if filters.source:
                allowed &= sources == filters.source
            if filters.published_from:
                allowed &= days >= filters.published_from.toordinal()
            if filters.published_to:
                allowed &= (days > 0) & (days <= filters.published_to.toordinal())
        return allowed

    def _forget(self, document_id: str) -> None:
        for slot in self._slots_of.pop(document_id, []):
            self._index.remove(slot)
            self._slot_of.pop(self._slots.chunk_ids[slot], None)

    def _compact_if_needed(self) -> None:
        if self._index.needs_compaction():
            self._compact()

    def _compact(self) -> None:
        kept = self._index.compact()
        if len(kept) == len(self._slots):
            return
        self._slots = self._slots.taken(kept)
        if self._records is not None:
            self._vectors.keep(kept)
            self._locations = self._locations[kept]
        self._map_slots()

    def _map_slots(self) -> None:
        """(Under the lock.) Rebuild the lookups from article and chunk ids to slots (every slot is live): slots
        were renumbered."""
        self._layout += 1
        self._slots_of = {}
        for slot, document_id in enumerate(self._slots.document_ids):
            self._slots_of.setdefault(document_id, []).append(slot)
        self._slot_of = dict(zip(self._slots.chunk_ids, range(len(self._slots))))

    def warm(self) -> None:
        """Build (or load) the index now rather than at the first question, and save it if it was built."""
        with self._lock:
            self._ensure_built()
        self.save()

    def save(self) -> None:
        """Write the index beside an embedded store (atomically) if it changed since it was loaded or saved; the
        record file is rewritten first when replaced and deleted chunks' records outweigh the live ones."""
        with self._lock:
            if self._snapshot is None or not self._built or self._saved:
                return
            self._compact()
            try:
                if self._records is not None and self._records.size() > 2 * int(self._locations[:, 1].sum()) + 1_000_000:
                    self._locations = self._records.rewrite(self._locations)
                    self._layout += 1
                terms, arrays = self._index.export()
                meta = {"version": _SNAPSHOT_VERSION, "generation": self._generation, "terms": terms}
                partial = self._snapshot.with_suffix(".partial.npz")
                np.savez(
                    partial, meta=np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8), record_locations=self._locations,
                    **arrays, **self._vectors.export(), **self._slots.export(),
                )
                os.replace(partial, self._snapshot)
                self._saved = True
            except (OSError, StoreError) as exc:
                log.warning("could not save the local index to %s: %s", self._snapshot, exc)

    def _load(self) -> bool:
        """(Under the lock.) The saved index, if it describes the store as it is now."""
        if self._snapshot is None:
            return False
        generation = self._store.generation()
        reading, self._reading = self._reading, None
        saved = reading.result() if reading is not None else None
        if saved is None or saved.generation != generation:  # not read ahead, or saved again since: read it now
            saved = read_saved_index(self._snapshot)
        if saved is None or saved.generation != generation or saved.vectors.dimension != self._store.dimension:
            return False
        if self._records is not None and len(saved.locations) and int((saved.locations[:, 0] + saved.locations[:, 1]).max()) > self._records.size():
            log.warning("the chunk records %s are shorter than the saved index says: rebuilding both", self._records.path)
            return False
        self._index, self._vectors, self._slots, self._locations = saved.index, saved.vectors, saved.slots, saved.locations
        self._generation = generation
        self._map_slots()
        self._built, self._saved = True, True
        return True

    def _ensure_built(self) -> None:
        """(Under the lock.) Index every stored chunk, once, or again after `mark_changed`: from the saved index
        when it is current, else by reading the store (then saved for the next start)."""
        if self._built or self._load():
            return
        generation = self._store.generation()
        index, slots = Bm25Index(), _Slots()
        rows: list[tuple[np.ndarray, np.ndarray]] = []
        locations = [np.zeros((0, 2), np.int64)]
        if self._records is not None:
            self._records.truncate()
        for page in self._store.chunk_pages(vectors=self._records is not None):
            for chunk_id, text, meta in zip(page.ids, page.texts, page.metadatas, strict=True):
                index.add(_chunk_terms(str(meta.get("title", "")), int(meta["chunk_index"]), text))
                slots.append(chunk_id, str(meta["document_id"]), meta.get("source"), meta.get("published_day"))
            if self._records is not None and page.vectors is not None:
                rows.append(quantized(page.vectors))
                locations.append(self._records.append(list(zip(page.ids, page.texts, page.metadatas, strict=True)), page.vectors))
        dimension = self._store.dimension
        self._vectors = VectorIndex.restore(dimension, {
            "vector_columns": np.hstack([r.T for r, _ in rows]) if rows else np.zeros((dimension, 0), np.int8),
            "vector_scales": np.concatenate([sc for _, sc in rows]) if rows else np.zeros(0, np.float32),
        })
        self._index, self._slots, self._locations = index, slots, np.vstack(locations)
        self._map_slots()
        self._built, self._generation, self._saved = True, generation, False


@dataclass
class SavedIndex:
    """A local index as saved, and the store generation it describes."""

    generation: str | None
    index: Bm25Index
    vectors: VectorIndex
    slots: _Slots
    locations: np.ndarray  # by slot: (offset, length) of its record


def read_saved_index(path: Path) -> SavedIndex | None:
    """The index saved at `path`, whichever store generation it describes; None when there is none or it is
    unreadable, of another version or inconsistent."""
    if not path.is_file():
        return None
    try:
        with np.load(path) as saved:
            meta = json.loads(saved["meta"].tobytes())
            if meta.get("version") != _SNAPSHOT_VERSION:
                return None
            index = Bm25Index.restore(meta["terms"], {k: saved[k] for k in ("offsets", "slots", "frequencies", "lengths")})
            locations = saved["record_locations"].astype(np.int64).reshape(-1, 2)
            columns = saved["vector_columns"]
            vectors = VectorIndex.restore(columns.shape[0], {"vector_columns": columns, "vector_scales": saved["vector_scales"]})
            slots = _Slots.restore({k: saved[k] for k in ("slot_chunk_ids", "slot_document_ids", "slot_sources", "slot_days")})
    except (OSError, ValueError, KeyError, IndexError, UnicodeDecodeError) as exc:
        log.warning("ignoring the unreadable local index %s: %s", path, exc)
        return None
    if not len(slots) == index.slots == vectors.size == len(locations):
        return None
    return SavedIndex(meta.get("generation"), index, vectors, slots, locations)


def reading_saved_index(path: Path) -> "Future[SavedIndex | None]":
    """`read_saved_index` started on a thread of its own, to overlap the start's other work (importing chromadb,
    loading the encoder: the 100k-chunk index took ~0.4 s of a ~2 s start). A daemon thread: a command that never
    needs the index does not wait for it at exit. Whether it still describes the store is checked when it is used."""
    future: Future[SavedIndex | None] = Future()

    def read() -> None:
        try:
            future.set_result(read_saved_index(path))
        except BaseException as exc:  # handed to whoever waits for the result
            future.set_exception(exc)

    threading.Thread(target=read, name="saved-index-reader", daemon=True).start()
    return future


def _records_of(write: DocumentWrite) -> list[ChunkRecord]:
    """The record-file records of one article's new chunks: id, text and the metadata Chroma holds."""
    return [
        (chunk.id, chunk.text, chunk_metadata(write.document, chunk, sentences))
        for chunk, sentences in zip(write.chunks, write.sentence_vectors, strict=True)
    ]


def _day(published: date | None) -> int | None:
    return published.toordinal() if published else None
