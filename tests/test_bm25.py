"""The incremental BM25 index: bm25s's scores, and the same scores after adds, removals and compaction as a
fresh build; in the pipeline, a write is searchable without re-reading the store."""

import threading
from pathlib import Path

import bm25s
import numpy as np
import pytest

from rag.bm25 import Bm25Index
from rag.chunk import chunk_article
from rag.config import Settings
from rag.documents import load_paths, make_article
from rag.embed import Embedder
from rag.pipeline import build
from rag.store import ChunkStore
from rag.store_lock import release_store
from rag.terms import index_terms, terms
from rag.types import Article
from tests.conftest import SEEDS

QUERIES = ["How many jobs will Nissan cut?", "NCIC Dongfeng export venture stake", "Sunderland Leaf battery plant", "capital of France"]


@pytest.fixture(scope="module")
def seed_chunks(real_embedder: Embedder) -> list[tuple[str, ...]]:
    articles = [a for a in load_paths([SEEDS], 10**7) if isinstance(a, Article)]
    return [index_terms(c.text) for a in articles for c in chunk_article(a, real_embedder.count_tokens, 80)]


def test_scores_match_bm25s(seed_chunks: list[tuple[str, ...]]) -> None:
    reference = bm25s.BM25()
    reference.index([list(c) for c in seed_chunks], show_progress=False)
    ours = Bm25Index()
    for chunk in seed_chunks:
        ours.add(chunk)
    for query in QUERIES:
        query_terms = list(dict.fromkeys(terms(query)))
        np.testing.assert_allclose(ours.scores(query_terms), reference.get_scores(query_terms), rtol=1e-4, atol=1e-5)
    assert ours.scores(terms("Nissan jobs")).max() > 0


def test_removals_and_compaction_give_the_scores_of_a_fresh_build(seed_chunks: list[tuple[str, ...]]) -> None:
    grown = Bm25Index()
    slots = [grown.add(chunk) for chunk in seed_chunks]
    removed = set(slots[::3])
    for slot in removed:
        grown.remove(slot)
    kept = [chunk for slot, chunk in zip(slots, seed_chunks, strict=True) if slot not in removed]
    fresh = Bm25Index()
    for chunk in kept:
        fresh.add(chunk)
    for query in QUERIES:
        query_terms = terms(query)
        live = grown.scores(query_terms)
        assert not live[sorted(removed)].any(), "a removed chunk still scores"
        np.testing.assert_allclose(np.delete(live, sorted(removed)), fresh.scores(query_terms), rtol=1e-5)
    old_slots = grown.compact()
    assert list(old_slots) == [s for s in slots if s not in removed]
    for query in QUERIES:
        np.testing.assert_allclose(grown.scores(terms(query)), fresh.scores(terms(query)), rtol=1e-5)
    assert grown.idf("nissan") == pytest.approx(fresh.idf("nissan"))


class CountingReads(ChunkStore):
    """The real store, counting full scans (the keyword index reads everything only when it rebuilds)."""

    scans = 0

    def chunk_pages(self, vectors=False):  # type: ignore[no-untyped-def]
        type(self).scans += 1
        return super().chunk_pages(vectors)


def test_written_and_deleted_articles_are_searchable_without_a_rebuild(tmp_path: Path, real_embedder: Embedder, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("rag.pipeline.ChunkStore", CountingReads)
    CountingReads.scans = 0
    pipeline = build(Settings(data_dir=tmp_path / "data", answerer="extractive"), real_embedder)
    pipeline.ingest(make_article(id="dam", title="Dam", text="The Koral dam will be finished in 2029, engineers said."))
    assert "Koral" in pipeline.ask("When will the Koral dam be finished?").answer
    assert CountingReads.scans == 1
    pipeline.ingest(make_article(id="mine", title="Mine", text="The Tesvik copper mine employs 4,100 miners."))
    found = pipeline.retrieve("How many miners does the Tesvik copper mine employ?")
    assert found[0].document.id == "mine" and found[0].keyword_score > 0
    pipeline.delete("dam")
    assert all(p.document.id != "dam" for p in pipeline.retrieve("Koral dam engineers"))
    assert pipeline.ask("When will the Koral dam be finished?").refused
    assert CountingReads.scans == 1, "a write or a delete made the keyword index re-read the whole store"


def test_a_restart_loads_the_saved_index_and_a_stale_one_is_rebuilt(tmp_path: Path, real_embedder: Embedder, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("rag.pipeline.ChunkStore", CountingReads)
    CountingReads.scans = 0
    settings = Settings(data_dir=tmp_path / "data", answerer="extractive")
    question = "How many miners does the Tesvik copper mine employ?"
    first = build(settings, real_embedder)
    first.ingest(make_article(id="mine", title="Mine", text="The Tesvik copper mine employs 4,100 miners."))
    first.prepare()  # builds from the store (1 scan) and saves
    first.ingest(make_article(id="port", title="Port", text="The Velka port handled 900 ships in 2025."))
    first.close()  # saves again: the saved index includes the port
    expected = [p.chunk.id for p in first.retrieve(question)]
    del first
    release_store(settings.data_dir)
    assert CountingReads.scans == 1

    second = build(settings, real_embedder)
    second.prepare()
    assert CountingReads.scans == 1, "the saved index was not used"
    assert [p.chunk.id for p in second.retrieve(question)] == expected
    assert second.retrieve("Velka port ships")[0].document.id == "port"
    second.ingest(make_article(id="dam", title="Dam", text="The Koral dam opened."))  # not saved: no close()
    del second
    release_store(settings.data_dir)

    third = build(settings, real_embedder)
    third.prepare()
    assert CountingReads.scans == 2, "a saved index older than the store was used"
    assert third.retrieve("Koral dam")[0].document.id == "dam"


def test_the_saved_index_read_ahead_at_start_is_used_and_a_write_before_the_first_question_makes_it_stale(
    tmp_path: Path, real_embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag import local_index

    monkeypatch.setattr("rag.pipeline.ChunkStore", CountingReads)
    CountingReads.scans = 0
    settings = Settings(data_dir=tmp_path / "data", answerer="extractive")
    first = build(settings, real_embedder)
    first.ingest(make_article(id="mine", title="Mine", text="The Tesvik copper mine employs 4,100 miners."))
    first.prepare()
    first.close()
    del first
    release_store(settings.data_dir)
    reads: list[str] = []
    original = local_index.read_saved_index

    def counted(path: Path) -> local_index.SavedIndex | None:
        reads.append(threading.current_thread().name)
        return original(path)

    monkeypatch.setattr(local_index, "read_saved_index", counted)

    second = build(settings, real_embedder)  # starts reading the saved index on its own thread
    second.prepare()
    assert reads == ["saved-index-reader"] and CountingReads.scans == 1, "the index read ahead was not the one used"
    del second
    release_store(settings.data_dir)

    third = build(settings, real_embedder)
    third.ingest(make_article(id="dam", title="Dam", text="The Koral dam opened in 2024."))  # before any question
    assert third.retrieve("Koral dam")[0].document.id == "dam", "the index read ahead, older than the store, was used"
    assert third.retrieve("How many miners does the Tesvik copper mine employ?")[0].document.id == "mine"
    assert CountingReads.scans == 2
