"""Passage vectors for corpora too large to embed here (100k chunks would take ~10 h on 2 cores).

The small corpus is embedded for real and every passage call recorded under its article's layout; an article of
a larger corpus sharing that layout (same sentences, other facts) gets the recorded vectors plus a little noise.
Queries, token counts and vocabulary words always go to the real model.
"""

import hashlib
from collections.abc import Sequence

import numpy as np

from rag.embed import Embedder

# Cosine of a replayed vector to its recorded one is about 0.97 at this noise level (384 dimensions).
_NOISE = 0.012


class ReplayEmbedder:
    """The real embedder for queries; passages recorded per layout (`record`) or replayed from the records."""

    def __init__(self, real: Embedder) -> None:
        self._real = real
        self.name = real.name
        self.dimension = real.dimension
        self._recorded: dict[int, list[np.ndarray]] = {}
        self._layout = 0
        self._call = 0
        self._recording = True

    def article(self, layout: int, record: bool) -> None:
        """The next passage calls embed an article of this layout: for real (recorded) or replayed."""
        self._layout, self._call, self._recording = layout, 0, record
        if record:
            self._recorded[layout] = []

    def has(self, layout: int) -> bool:
        """Whether this layout's real vectors are recorded."""
        return layout in self._recorded

    def pool(self) -> np.ndarray:
        """Every recorded passage vector (real ones), one per row."""
        return np.vstack([block for calls in self._recorded.values() for block in calls])

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if self._recording:
            vectors = self._real.embed_passages(texts)
            self._recorded[self._layout].append(vectors)
            return vectors
        calls = self._recorded[self._layout]
        recorded = calls[min(self._call, len(calls) - 1)]
        self._call += 1
        rows = recorded[np.minimum(np.arange(len(texts)), len(recorded) - 1)]
        return _jitter(rows, "\n".join(texts))

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
    """For the baseline's own (differently cut) chunks: a recorded real vector chosen by the text's hash, jittered."""
    picks = [int.from_bytes(hashlib.blake2b(t.encode("utf-8"), digest_size=8).digest(), "little") % len(pool) for t in texts]
    return _jitter(pool[picks], "\n".join(texts))
