"""An in-memory BM25 index that grows and shrinks one chunk at a time (no rebuild after a write).

Scores follow bm25s's default ("lucene": idf = ln(1 + (N - df + 0.5) / (df + 0.5)), tf / (tf + k1 (1 - b + b dl/avgdl)),
k1 1.5, b 0.75), so rankings match the library it replaces. Postings are compact arrays; a removed chunk is a
tombstone (document frequencies count live chunks only) until `compact()` drops the tombstones.
"""

import math
from array import array
from collections import Counter
from collections.abc import Sequence

import numpy as np

K1, B = 1.5, 0.75


class Bm25Index:
    """Slots are chunk positions; the caller keeps what each slot means. Not thread-safe: the caller locks."""

    def __init__(self) -> None:
        # term -> (slots "i", term frequencies "H": counts within one chunk, capped at 65,535; half of float32's memory)
        self._postings: dict[str, tuple[array, array]] = {}
        self._lengths = array("f")
        self._alive = array("b")
        self._live = 0
        self._live_length = 0.0

    @property
    def slots(self) -> int:
        """Slots ever given out (live and removed) since the last compaction."""
        return len(self._alive)

    @property
    def live(self) -> int:
        """Chunks in the index now."""
        return self._live

    def add(self, chunk_terms: Sequence[str]) -> int:
        """Index one chunk's terms; return its slot."""
        slot = len(self._alive)
        counts = Counter(chunk_terms)
        for term, count in counts.items():
            slots, frequencies = self._postings.setdefault(term, (array("i"), array("H")))
            slots.append(slot)
            frequencies.append(min(count, 65_535))
        self._lengths.append(len(chunk_terms))
        self._alive.append(1)
        self._live += 1
        self._live_length += len(chunk_terms)
        return slot

    def remove(self, slot: int) -> None:
        """Take one chunk out (its slot stays, dead, until compaction)."""
        if not self._alive[slot]:
            return
        self._alive[slot] = 0
        self._live -= 1
        self._live_length -= self._lengths[slot]

    def alive_mask(self) -> np.ndarray:
        """Which slots hold a live chunk (a copy)."""
        return np.frombuffer(self._alive, dtype=np.int8).astype(bool)

    def needs_compaction(self) -> bool:
        """Whether removed chunks outnumber live ones (then the caller compacts and renumbers its slots)."""
        return len(self._alive) - self._live > max(self._live, 1000)

    def compact(self) -> np.ndarray:
        """Drop removed slots and renumber the live ones in order; return the kept old slots (new slot i was
        kept[i])."""
        alive = np.frombuffer(self._alive, dtype=np.int8).astype(bool)
        renumber = np.cumsum(alive) - 1
        postings: dict[str, tuple[array, array]] = {}
        for term, (slots, frequencies) in self._postings.items():
            old = np.frombuffer(slots, dtype=np.int32)
            keep = alive[old]
            if keep.any():
                postings[term] = (
                    array("i", renumber[old[keep]].astype(np.int32).tobytes()),
                    array("H", np.frombuffer(frequencies, dtype=np.uint16)[keep].tobytes()),
                )
        kept = np.flatnonzero(alive)
        self._postings = postings
        self._lengths = array("f", np.frombuffer(self._lengths, dtype=np.float32)[kept].tobytes())
        self._alive = array("b", bytes([1]) * len(kept))
        return kept

    def document_frequency(self, term: str) -> int:
        """Live chunks containing the term."""
        posting = self._postings.get(term)
        if posting is None:
            return 0
        if self._live == len(self._alive):  # no removed chunks: every posting is live
            return len(posting[0])
        return int(np.count_nonzero(np.frombuffer(self._alive, dtype=np.int8)[np.frombuffer(posting[0], dtype=np.int32)]))

    def idf(self, term: str) -> float:
        """bm25s's idf of a term over the live chunks (what a term in no chunk gets when df is 0)."""
        df = self.document_frequency(term)
        return math.log(1 + (self._live - df + 0.5) / (df + 0.5))

    def scores(self, query_terms: Sequence[str], out: np.ndarray | None = None) -> np.ndarray:
        """BM25 score of every slot for these terms (0 for removed slots and chunks without them), written into
        `out` when it is a float32 array of at least that many slots (a buffer reused by the caller)."""
        if out is not None and out.dtype == np.float32 and len(out) >= len(self._alive):
            scores = out[: len(self._alive)]
            scores.fill(0.0)
        else:
            scores = np.zeros(len(self._alive), dtype=np.float32)
        if not self._live:
            return scores
        average = self._live_length / self._live
        lengths = np.frombuffer(self._lengths, dtype=np.float32)
        alive = np.frombuffer(self._alive, dtype=np.int8)
        for term in set(query_terms):
            posting = self._postings.get(term)
            if posting is None:
                continue
            slots = np.frombuffer(posting[0], dtype=np.int32)
            df = len(slots) if self._live == len(self._alive) else int(np.count_nonzero(alive[slots]))
            if not df:
                continue
            tf = np.frombuffer(posting[1], dtype=np.uint16).astype(np.float32)
            norm = K1 * (1 - B + B * lengths[slots] / average)
            idf = math.log(1 + (self._live - df + 0.5) / (df + 0.5))
            scores[slots] += idf * tf / (tf + norm)
        if self._live < len(self._alive):
            scores *= alive
        return scores

    def export(self) -> tuple[list[str], dict[str, np.ndarray]]:
        """(terms, arrays) of a compacted index, to save; `restore` reads them back."""
        self.compact()
        terms = list(self._postings)
        sizes = [len(self._postings[t][0]) for t in terms]
        return terms, {
            "offsets": np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)]),
            "slots": np.concatenate([np.frombuffer(self._postings[t][0], dtype=np.int32) for t in terms]) if terms else np.zeros(0, np.int32),
            "frequencies": np.concatenate([np.frombuffer(self._postings[t][1], dtype=np.uint16) for t in terms]) if terms else np.zeros(0, np.uint16),
            "lengths": np.frombuffer(self._lengths, dtype=np.float32).copy(),
        }

    @classmethod
    def restore(cls, terms: Sequence[str], arrays: dict[str, np.ndarray]) -> "Bm25Index":
        """The index `export` described."""
        index = cls()
        offsets, slots = arrays["offsets"], arrays["slots"].astype(np.int32)
        frequencies = np.minimum(arrays["frequencies"], 65_535).astype(np.uint16)
        for i, term in enumerate(terms):
            a, b = int(offsets[i]), int(offsets[i + 1])
            index._postings[term] = (array("i", slots[a:b].tobytes()), array("H", frequencies[a:b].tobytes()))
        index._lengths = array("f", arrays["lengths"].astype(np.float32).tobytes())
        index._alive = array("b", bytes([1]) * len(index._lengths))
        index._live = len(index._lengths)
        index._live_length = float(arrays["lengths"].sum())
        return index
