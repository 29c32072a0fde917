"""The corpus's vocabulary as word vectors: synonyms for question words the articles never use."""

import threading
from functools import lru_cache

from rag.embed import Embedder
from rag.store import TermStore
from rag.terms import content_words

_NEIGHBOURS = 8


class Vocabulary:
    """Learns each article's words at ingest; finds corpus words close in meaning to an unseen word."""

    def __init__(self, terms: TermStore, embedder: Embedder, min_similarity: float) -> None:
        self._terms = terms
        self._embedder = embedder
        self._min_similarity = min_similarity
        self._lock = threading.Lock()
        self._lookup = lru_cache(maxsize=4096)(self._synonyms_uncached)

    def learn(self, text: str) -> int:
        """Add vectors for the words of `text` not seen before; return how many were new."""
        words = content_words(text)
        with self._lock:
            missing = self._terms.missing(list(words))
            if missing:
                surface = [words[stem] for stem in missing]
                self._terms.add(missing, surface, self._embedder.embed_queries(surface))
                self._lookup.cache_clear()
        return len(missing)

    def synonyms(self, word: str) -> dict[str, float]:
        """Corpus stems whose words mean nearly the same as `word` (cosine at least the configured floor)."""
        result: dict[str, float] = self._lookup(word.lower())
        return result

    def _synonyms_uncached(self, word: str) -> dict[str, float]:
        vector = self._embedder.embed_query(word)
        return {stem: sim for stem, sim in self._terms.nearest(vector, _NEIGHBOURS) if sim >= self._min_similarity}
