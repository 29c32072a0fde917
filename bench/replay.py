"""Passage vectors for corpora too large to embed here (100k chunks would take ~10 h on 2 cores).

The smallest corpus is embedded for real and its vectors recorded; passages of larger corpora get one of those
real vectors, picked by the text's hash, plus a little noise. Queries, token counts and vocabulary words always
go to the real model, so everything but the passage model's compute runs as in production.
"""

import hashlib
from collections.abc import Sequence

import numpy as np

from rag.embed import Embedder

# Cosine of a replayed vector to its recorded one is about 0.97 at this noise level (384 dimensions).
_NOISE = 0.012


class ReplayEmbedder:
    """The real embedder for queries; passages embedded for real while `recording`, else replayed from the pool."""

    def __init__(self, real: Embedder) -> None:
        self._real = real
        self.name = real.name
        self.dimension = real.dimension
        self._recorded: list[np.ndarray] = []
        self._pool: np.ndarray | None = None
        self.recording = True

    def pool(self) -> np.ndarray:
        """Every passage vector embedded for real so far, one per row."""
        if self._pool is None or len(self._pool) != sum(len(block) for block in self._recorded):
            self._pool = np.vstack(self._recorded)
        return self._pool

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if self.recording:
            vectors = self._real.embed_passages(texts)
            self._recorded.append(vectors)
            return vectors
        return replay_from_pool(self.pool(), texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self._real.embed_query(text)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._real.embed_queries(texts)

    def count_tokens(self, text: str) -> int:
        return self._real.count_tokens(text)


def _jitter(rows: np.ndarray, key: str) -> np.ndarray:
    """Rows plus deterministic noise seeded by the texts, renormalized."""
    seed = int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "little")
    noisy = rows + np.random.default_rng(seed).normal(0.0, _NOISE, rows.shape).astype(np.float32)
    return (noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(np.float32)


def replay_from_pool(pool: np.ndarray, texts: Sequence[str]) -> np.ndarray:
    """For each text a recorded real vector chosen by the text's hash, jittered (ours and the baseline's chunks)."""
    picks = [int.from_bytes(hashlib.blake2b(t.encode("utf-8"), digest_size=8).digest(), "little") % len(pool) for t in texts]
    return _jitter(pool[picks], "\n".join(texts))
