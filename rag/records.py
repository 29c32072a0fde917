"""Stored chunks as records in an append-only file beside an embedded store, read back by offset.

Answering reads the few chunks it keeps from here instead of from Chroma: ~0.3 ms for five instead of ~1-1.5 ms,
and Chroma's first read of a collection loads its whole HNSW graph into memory (~215 MB at 100k chunks), which a
process that searches its own vector index (rag/vectors.py) never needs. Chroma stays the store of record: this
file is rebuilt from it whenever the saved index does not match the store's generation.

A record is the chunk's vector (float16; what the vector index rescores its candidates with, read alone) followed by
one line of JSON: [chunk id, text, metadata as given to Chroma]. Records of replaced or deleted chunks stay until
`rewrite` copies the live ones into a new file.
"""

import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import StoreError

ChunkRecord = tuple[str, str, dict[str, Any]]


class RecordFile:
    """Appends records, returning where each went ((offset, length) rows); reads them, or only their vectors, back
    by location."""

    def __init__(self, path: Path, dimension: int) -> None:
        self._path = path
        self._dimension = dimension
        self._vector_bytes = 2 * dimension
        self._lock = threading.Lock()
        self._fd: int | None = None

    @property
    def path(self) -> Path:
        """The file's path."""
        return self._path

    def size(self) -> int:
        """Bytes written so far (0 when the file does not exist)."""
        try:
            return self._path.stat().st_size
        except FileNotFoundError:
            return 0

    def append(self, records: Sequence[ChunkRecord], vectors: np.ndarray) -> np.ndarray:
        """Write records (and their chunks' vectors, one row each) at the end of the file; their (offset, length)
        rows, in order."""
        rows = np.asarray(vectors, dtype=np.float16).reshape(len(records), self._dimension)
        return self._append_raw(
            [
                row.tobytes() + (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
                for row, record in zip(rows, records, strict=True)
            ]
        )

    def read(self, locations: Sequence[Sequence[int]] | np.ndarray) -> list[ChunkRecord]:
        """The records at these (offset, length) locations, in order."""
        records = []
        for raw in self._read_raw(locations):
            chunk_id, text, meta = json.loads(raw[self._vector_bytes :])
            records.append((str(chunk_id), str(text), dict(meta)))
        return records

    def vectors(self, locations: np.ndarray) -> np.ndarray:
        """The chunk vectors of the records at these locations, one float32 row each (only their first bytes read)."""
        heads = np.stack([locations[:, 0], np.full(len(locations), self._vector_bytes)], axis=1) if len(locations) else locations
        data = b"".join(self._read_raw(heads))
        return np.frombuffer(data, dtype=np.float16).reshape(len(locations), self._dimension).astype(np.float32)

    def _append_raw(self, encoded: list[bytes]) -> np.ndarray:
        data = b"".join(encoded)
        with self._lock:
            try:
                fd = self._open()
                offset = os.lseek(fd, 0, os.SEEK_END)
                if os.write(fd, data) != len(data):
                    raise OSError("a short write (is the disk full?)")
            except OSError as exc:
                raise StoreError(f"cannot write the chunk records to {self._path}: {exc}") from exc
        lengths = np.array([len(line) for line in encoded], dtype=np.int64)
        return np.stack([offset + np.cumsum(lengths) - lengths, lengths], axis=1)

    def _read_raw(self, locations: Sequence[Sequence[int]] | np.ndarray) -> list[bytes]:
        with self._lock:
            fd = self._open()
        found = []
        for offset, length in locations.tolist() if isinstance(locations, np.ndarray) else locations:
            data = os.pread(fd, length, offset)
            if len(data) != length:
                raise StoreError(f"{self._path} is shorter than the index says: restart the service to rebuild both from the store")
            found.append(data)
        return found

    def truncate(self) -> None:
        """Start an empty file."""
        with self._lock:
            self._close()
            try:
                self._path.parent.mkdir(parents=True, exist_ok=True)
                self._path.write_bytes(b"")
            except OSError as exc:
                raise StoreError(f"cannot write the chunk records to {self._path}: {exc}") from exc

    def rewrite(self, locations: np.ndarray) -> np.ndarray:
        """Keep only the records at these locations, in order, in a new file that replaces this one (atomically);
        their new locations."""
        partial = self._path.with_suffix(".partial")
        fresh = RecordFile(partial, self._dimension)
        fresh.truncate()
        moved = [np.zeros((0, 2), np.int64)]
        for start in range(0, len(locations), 1000):  # each record's bytes copied as they are, read once
            moved.append(fresh._append_raw(self._read_raw(locations[start : start + 1000])))
        fresh.close()
        with self._lock:
            self._close()
            os.replace(partial, self._path)
        return np.vstack(moved)

    def close(self) -> None:
        """Close the file (a later read or append opens it again)."""
        with self._lock:
            self._close()

    def _open(self) -> int:
        if self._fd is None:
            try:
                self._path.parent.mkdir(parents=True, exist_ok=True)
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise StoreError(f"cannot open the chunk records {self._path}: {exc}") from exc
        return self._fd

    def _close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
