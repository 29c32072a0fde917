"""The chunk record file beside an embedded store: records and their vectors read back by location, rewritten
without dead records, a damaged file refused, and a restart that finds it short rebuilding it from the store."""

from pathlib import Path

import numpy as np
import pytest

from rag.config import Settings
from rag.documents import make_article
from rag.embed import Embedder
from rag.errors import StoreError
from rag.pipeline import build
from rag.records import RecordFile
from rag.store_lock import release_store


def _records(n: int) -> tuple[list[tuple[str, str, dict[str, object]]], np.ndarray]:
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(n, 8)).astype(np.float32)
    return [(f"doc:{i}", f"Chunk text {i}, with ünïcode.", {"document_id": "doc", "chunk_index": i}) for i in range(n)], vectors


def test_records_and_their_vectors_come_back_by_location(tmp_path: Path) -> None:
    file = RecordFile(tmp_path / "news.chunks", dimension=8)
    records, vectors = _records(5)
    first = file.append(records[:2], vectors[:2])
    second = file.append(records[2:], vectors[2:])
    locations = np.vstack([first, second])
    assert file.read(locations[[4, 0]]) == [records[4], records[0]]
    np.testing.assert_allclose(file.vectors(locations[[3, 1]]), vectors[[3, 1]], atol=2e-3)
    assert file.size() == int(locations[-1].sum())


def test_a_rewrite_keeps_only_the_live_records(tmp_path: Path) -> None:
    file = RecordFile(tmp_path / "news.chunks", dimension=8)
    records, vectors = _records(6)
    locations = file.append(records, vectors)
    before = file.size()
    moved = file.rewrite(locations[[1, 4]])
    assert file.read(moved) == [records[1], records[4]] and file.size() < before / 2
    np.testing.assert_allclose(file.vectors(moved), vectors[[1, 4]], atol=2e-3)


def test_a_file_shorter_than_its_locations_is_a_store_error(tmp_path: Path) -> None:
    file = RecordFile(tmp_path / "news.chunks", dimension=8)
    records, vectors = _records(3)
    locations = file.append(records, vectors)
    file.close()
    with open(tmp_path / "news.chunks", "r+b") as handle:
        handle.truncate(int(locations[1, 0]))
    with pytest.raises(StoreError, match="shorter than the index says"):
        file.read(locations[2:])


def test_a_restart_that_finds_the_records_short_rebuilds_them_from_the_store(tmp_path: Path, real_embedder: Embedder) -> None:
    settings = Settings(data_dir=tmp_path / "data", answerer="extractive")
    first = build(settings, real_embedder)
    first.prepare(answerer=False)
    first.ingest(make_article(id="mine", title="Mine", text="The Tesvik copper mine employs 4,100 miners."))
    first.close()
    del first
    release_store(settings.data_dir)
    (settings.data_dir / "news-index.chunks").write_bytes(b"")  # damaged or lost: the saved index no longer fits it

    second = build(settings, real_embedder)
    answer = second.ask("How many miners does the Tesvik copper mine employ?")
    assert "4,100" in answer.answer and (settings.data_dir / "news-index.chunks").stat().st_size > 0


def test_a_full_disk_while_appending_records_leaves_answers_right_after_a_rebuild(tmp_path: Path, real_embedder: Embedder, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    from rag import records

    pipeline = build(Settings(data_dir=tmp_path / "data", answerer="extractive"), real_embedder)
    pipeline.ingest(make_article(id="mine", title="Mine", text="The Tesvik copper mine employs 4,100 miners."))
    assert "4,100" in pipeline.ask("How many miners does the Tesvik copper mine employ?").answer

    def disk_full(fd: int, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(records.os, "write", disk_full)
        pipeline.ingest(make_article(id="port", title="Port", text="The Velka port handled 900 ships in 2025."))
    assert "900" in pipeline.ask("How many ships did the Velka port handle in 2025?").answer
    assert "4,100" in pipeline.ask("How many miners does the Tesvik copper mine employ?").answer
