"""Fixtures: the real embedding model (loaded once), real Chroma in temporary folders, the real app."""

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from rag.config import Settings
from rag.embed import Embedder, build_embedder
from rag.pipeline import Pipeline, build

# The tests pin answers to the extractive answerer as extracted: the default answer check (a 1.5B model, 2 GB per
# process, servers started by tests included) has its own tests, tests/test_check.py and tests/test_llm_local.py.
os.environ["RAG_ANSWER_CHECK"] = "off"

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
NCIC_QUESTION = "What stake will NCIC hold in the export venture?"
# A news article unlike the seeds: a why, a who, a where and a false premise to ask of it.
BAKERY = (
    "Crumb & Co, the bakery chain founded in Leeds in 1987, will close 38 of its 212 shops by the end of August. "
    "The company blamed a 15 per cent rise in flour and energy costs and weaker footfall in town centres. "
    "Managing director Priya Natarajan said staff would be offered roles in nearby branches. "
    "The chain will keep its central bakery in Wakefield, which supplies every shop each morning. "
    "Crumb & Co was bought by the private equity firm Harbour Lane Capital in 2021."
)


class CountingEmbedder:
    """The real model, counting how many passages it embeds (to prove unchanged articles are skipped)."""

    def __init__(self, inner: Embedder) -> None:
        self._inner = inner
        self.name = inner.name
        self.dimension = inner.dimension
        self.passages_embedded = 0

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.passages_embedded += len(texts)
        return self._inner.embed_passages(texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self._inner.embed_query(text)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        self.passages_embedded += len(texts)
        return self._inner.embed_queries(texts)

    def count_tokens(self, text: str) -> int:
        return self._inner.count_tokens(text)


@pytest.fixture(scope="session")
def real_embedder() -> Embedder:
    return build_embedder(Settings().embedder, 2, Settings().model_dir)


@pytest.fixture
def embedder(real_embedder: Embedder) -> CountingEmbedder:
    return CountingEmbedder(real_embedder)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", answerer="extractive")


@pytest.fixture
def pipeline(settings: Settings, embedder: CountingEmbedder) -> Pipeline:
    return build(settings, embedder)


@pytest.fixture
def seeded(pipeline: Pipeline) -> Pipeline:
    results, failures = pipeline.ingest_paths([SEEDS])
    assert len(results) == 2 and not failures
    return pipeline


@pytest.fixture(scope="session")
def seeded_dir(tmp_path_factory: pytest.TempPathFactory, real_embedder: Embedder) -> Path:
    """A data folder holding the seeds, ingested once per session, for tests that only read it."""
    data_dir = tmp_path_factory.mktemp("seeded") / "data"
    results, failures = build(Settings(data_dir=data_dir, answerer="extractive"), real_embedder).ingest_paths([SEEDS])
    assert len(results) == 2 and not failures
    return data_dir


@pytest.fixture
def client(seeded: Pipeline) -> Iterator[TestClient]:
    with TestClient(create_app(seeded)) as test_client:
        yield test_client
