"""The in-process int8 vector index: scores near the exact cosine, the exact nearest rows found, rows added after
packing, compaction and saving keep every slot's vector."""

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from rag import vectors
from rag.config import Settings
from rag.documents import make_article
from rag.embed import Embedder
from rag.pipeline import build
from rag.store import ChunkStore, open_persistent_client
from rag.vectors import VectorIndex, quantized, rescored
from tests.conftest import SEEDS

DIMENSION = 384


def _clustered(n: int, seed: int = 0) -> np.ndarray:
    """Unit vectors in tight clusters around a shared direction, like news passages embedded by e5 (cosines 0.7-0.9)."""
    rng = np.random.default_rng(seed)
    common = rng.normal(size=DIMENSION)
    centres = rng.normal(size=(max(n // 20, 1), DIMENSION)) * 0.6 + common * 0.25
    rows = centres[rng.integers(0, len(centres), n)] + rng.normal(0, 0.012, (n, DIMENSION))
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def _queries(rows: np.ndarray, n: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    picked = rows[rng.integers(0, len(rows), n)] + rng.normal(0, 0.08, (n, DIMENSION))
    return (picked / np.linalg.norm(picked, axis=1, keepdims=True)).astype(np.float32)


def test_quantized_rows_use_the_whole_int8_range_and_come_back_close() -> None:
    rows = _clustered(50)
    quantized_rows, scales = quantized(rows)
    assert quantized_rows.dtype == np.int8 and np.abs(quantized_rows).max(axis=1).min() == 127
    np.testing.assert_allclose(quantized_rows * scales[:, None], rows, atol=scales.max())


def _of_vectors(rows: np.ndarray) -> VectorIndex:
    quantized_rows, scales = quantized(rows)
    return VectorIndex.restore(DIMENSION, {"vector_columns": quantized_rows.T, "vector_scales": scales})


def _found(index: VectorIndex, query: np.ndarray, n: int, exact, excluded: np.ndarray | None = None) -> list[tuple[int, float]]:  # type: ignore[no-untyped-def]
    """The search LocalIndex runs: int8 candidates, rescored exactly."""
    return rescored(index.search().candidates(query, n, excluded), query, n, exact)


def _exact(rows: np.ndarray):  # type: ignore[no-untyped-def]
    return lambda slots: rows[slots]


def _nearest(rows: np.ndarray, query: np.ndarray, n: int) -> list[int]:
    return [int(i) for i in np.argsort(-(rows @ query), kind="stable")[:n]]


def test_int8_scores_alone_miss_near_duplicates_and_rescoring_finds_the_exact_nearest() -> None:
    rows = _clustered(6000)
    index = _of_vectors(rows)
    int8_shares, shares = [], []
    for query in _queries(rows, 40):
        exact = set(_nearest(rows, query, 30))
        approximate = index._packed[0].scores(query)
        # Under 0.01 everywhere with VNNI; up to 0.025 on an AVX2-only CPU, whose uint8 x int8 products saturate in
        # int16 pairs (rare rows): the exact rescoring below is what ranking rests on.
        error = np.abs(approximate - rows @ query)
        assert error.mean() < 0.002 and error.max() < 0.05
        int8_shares.append(len(exact & set(np.argsort(-approximate)[:30].tolist())) / 30)
        found = _found(index, query, 30, _exact(rows))
        shares.append(len(exact & {slot for slot, _ in found}) / 30)
        np.testing.assert_allclose([score for _, score in found], rows[[slot for slot, _ in found]] @ query, atol=1e-3)
    assert np.mean(int8_shares) < 0.99, "the clusters are too loose to test rescoring"
    assert np.mean(shares) >= 0.995


def test_rows_added_one_write_at_a_time_are_found_as_if_built_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vectors, "_TAIL_ROWS", 64)  # several packs within the test, and an unpacked tail
    rows = _clustered(500)
    grown = VectorIndex(DIMENSION)
    for start in range(0, len(rows), 37):
        grown.add(rows[start : start + 37])
    assert grown.size == len(rows) and 0 < len(grown._tail) <= 64
    whole = _of_vectors(rows)
    for query in _queries(rows, 5):
        assert _found(grown, query, 10, _exact(rows)) == _found(whole, query, 10, _exact(rows))
        assert [slot for slot, _ in _found(grown, query, 10, _exact(rows))] == _nearest(rows, query, 10)


def test_rows_packed_in_halves_are_found_alike_with_or_without_a_helper_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = _clustered(3050)
    packed, tail = rows[:3000], rows[3000:]
    whole = _of_vectors(packed)
    monkeypatch.setattr(vectors, "_SPLIT_ROWS", 1000)
    halves = _of_vectors(packed)
    for query in _queries(packed, 10, seed=2):
        assert _found(halves, query, 10, _exact(packed)) == _found(whole, query, 10, _exact(packed))
    halves.add(tail)  # an exact tail after both halves
    assert [(part.start, part.end) for part in halves._packed] == [(0, 1500), (1500, 3000)] and len(halves._tail) == 50
    excluded = np.zeros(len(rows), dtype=bool)
    excluded[::7] = True
    with ThreadPoolExecutor(max_workers=1) as helper:
        for query in _queries(rows, 10):
            alone = _found(halves, query, 10, _exact(rows))
            assert [slot for slot, _ in alone] == _nearest(rows, query, 10)
            assert rescored(halves.search().candidates(query, 10, None, helper), query, 10, _exact(rows)) == alone
            with_exclusions = rescored(halves.search().candidates(query, 10, excluded, helper), query, 10, _exact(rows))
            assert with_exclusions == _found(halves, query, 10, _exact(rows), excluded)
            assert len(with_exclusions) == 10 and not any(excluded[slot] for slot, _ in with_exclusions)


def test_a_question_asked_alone_lends_the_encoder_thread_to_the_dense_scan_and_one_asked_under_load_does_not(
    tmp_path: Path, real_embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag.local_index import LocalIndex

    pipeline = build(Settings(data_dir=tmp_path / "data", answerer="extractive"), real_embedder)
    pipeline.ingest_paths([SEEDS])
    helpers: list[bool] = []
    original = LocalIndex.dense_search

    def recording(self, vector, n, filters, helper=None):  # type: ignore[no-untyped-def]
        helpers.append(helper is not None)
        return original(self, vector, n, filters, helper)

    monkeypatch.setattr(LocalIndex, "dense_search", recording)
    pipeline.retrieve("What stake does Dongfeng hold?")
    assert helpers == [True]
    started, release = threading.Event(), threading.Event()
    slow = pipeline._retriever._embedder

    class Held:  # the first question's embedding waits until the second question is answered
        name, dimension = slow.name, slow.dimension

        def embed_query(self, text: str) -> np.ndarray:
            if text.startswith("first"):
                started.set()
                release.wait(30)
            return slow.embed_query(text)

    monkeypatch.setattr(pipeline._retriever, "_embedder", Held())
    monkeypatch.setattr(pipeline._retriever, "_encoder", ThreadPoolExecutor(max_workers=2))
    first = threading.Thread(target=pipeline.retrieve, args=("first: who owns the venture?",))
    first.start()
    assert started.wait(30)
    pipeline.retrieve("second: when was the Leaf launched?")
    release.set()
    first.join(30)
    assert helpers == [True, False, True]


def test_excluded_slots_are_never_returned() -> None:
    rows = _clustered(200)
    index = _of_vectors(rows)
    query = rows[7]
    excluded = np.zeros(len(rows), dtype=bool)
    excluded[_nearest(rows, query, 5)] = True
    found = [slot for slot, _ in _found(index, query, 10, _exact(rows), excluded)]
    assert not set(found) & set(np.flatnonzero(excluded)) and len(found) == 10
    assert _found(index, query, 10, _exact(rows), np.ones(len(rows), dtype=bool)) == []


def test_keeping_some_slots_renumbers_them_in_order_and_an_export_restores_them() -> None:
    rows = _clustered(300)
    index = VectorIndex(DIMENSION)
    index.add(rows)
    kept = np.arange(0, 300, 3)
    index.keep(kept)
    query = _queries(rows, 1)[0]
    exact = _exact(rows[kept])
    assert [slot for slot, _ in _found(index, query, 10, exact)] == _nearest(rows[kept], query, 10)
    restored = VectorIndex.restore(DIMENSION, index.export())
    assert restored.size == len(kept) and _found(restored, query, 10, exact) == _found(index, query, 10, exact)


def test_an_empty_index_finds_nothing() -> None:
    assert _found(VectorIndex(DIMENSION), np.ones(DIMENSION, np.float32) / np.sqrt(DIMENSION), 5, _exact(_clustered(1))) == []


def test_the_pipeline_dense_search_finds_the_store_s_exact_nearest_chunks_and_forgets_deleted_ones(tmp_path: Path, real_embedder: Embedder) -> None:
    pipeline = build(Settings(data_dir=tmp_path / "data", answerer="extractive"), real_embedder)
    pipeline.ingest_paths([SEEDS])
    pipeline.ingest(make_article(id="dam", title="Dam", text="The Koral dam will be finished in 2029, engineers said. It holds 40 million cubic metres."))
    stored = ChunkStore(open_persistent_client(tmp_path / "data"), "news", real_embedder.name, real_embedder.dimension)
    pages = list(stored.chunk_pages(vectors=True))
    ids = [cid for page in pages for cid in page.ids]
    matrix = np.vstack([page.vectors for page in pages if page.vectors is not None])
    for question in ("What stake does Dongfeng hold in the export venture?", "When will the Koral dam be finished?", "Nissan electric sedan price"):
        query = real_embedder.embed_query(question)
        exact = [ids[i] for i in np.argsort(-(matrix @ query))[:5]]
        assert pipeline.nearest_chunks(query, 5) == exact
    pipeline.delete("dam")
    assert all(not cid.startswith("dam") for cid in pipeline.nearest_chunks(real_embedder.embed_query("Koral dam"), len(ids)))


def test_a_write_that_renumbers_slots_during_a_dense_search_does_not_mix_up_chunks(tmp_path: Path, real_embedder: Embedder, monkeypatch: pytest.MonkeyPatch) -> None:
    from rag.vectors import VectorSearch

    pipeline = build(Settings(data_dir=tmp_path / "data", answerer="extractive"), real_embedder)
    pipeline.prepare(answerer=False)
    filler = "The Orsk textile mill reopened after a long closure, its owners said. " * 40
    pipeline.ingest(make_article(id="mill", title="Mill", text=filler))
    pipeline.ingest(make_article(id="mine", title="Mine", text="The Tesvik copper mine employs 4,100 miners."))
    pipeline.ingest(make_article(id="mill", title="Mill", text=filler + " It employs 300 weavers."))  # old slots dead
    question = real_embedder.embed_query("How many miners does the Tesvik copper mine employ?")
    original = VectorSearch.candidates
    renumbered = []

    def candidates_then_a_compaction(self, query, n, excluded=None, helper=None):  # type: ignore[no-untyped-def]
        found = original(self, query, n, excluded, helper)
        if not renumbered:  # another thread saves (and so compacts) the index while this search runs unlocked
            renumbered.append(True)
            pipeline.close()
        return found

    monkeypatch.setattr(VectorSearch, "candidates", candidates_then_a_compaction)
    assert pipeline.nearest_chunks(question, 1) == ["mine:0"] and renumbered
