"""Dense search in process: every chunk's vector kept as int8 (one scale per row: a quarter of float32's memory) and
packed into onnxruntime, which scores them all with one int8 matrix product; the best candidates are then rescored
with their exact vectors, read from wherever the caller keeps them (rag/records.py: on disk, not in memory).

Measured on this 2-core machine (one thread): 100k rows score in ~2 ms (Chroma's HNSW query: ~2-4 ms, with its
float32 graph of ~215 MB in memory) and 10k in ~0.25 ms. int8 scores are within ~0.005 of the exact cosine, which
can reorder near-duplicates; rescoring three times the wanted candidates finds the exact nearest rows (recall@30
against exact search: bench/, tests).

Rows are added in slot order. Rows given to onnxruntime are packed once into sessions; rows added since are kept
exact and scored by numpy until there are `_TAIL_ROWS` of them, then everything is packed again (~0.2 s per 100k
rows, in the write that crossed the line). From `_SPLIT_ROWS` rows on they are packed in two halves, each its own
session, so that a question asked while the other core is idle scores one half there (100k rows: ~2.7 -> ~1.7 ms);
under load each question scores both halves on its own thread.
"""

from collections.abc import Callable
from concurrent.futures import Executor
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from onnx import TensorProto

_TAIL_ROWS = 2048
_SPLIT_ROWS = 32_768  # below it one session: a hand-over to another thread (~0.05 ms) outweighs half a scan
_RESCORED = 3  # candidates rescored exactly per row wanted

ExactRows = Callable[[np.ndarray], np.ndarray]  # slots -> their exact vectors, float32, one row each


def quantized(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(int8 rows, float32 scales) with rows * scales[:, None] ~ vectors: each row scaled to use all of int8's range."""
    vectors = np.asarray(vectors, dtype=np.float32)
    peaks = np.abs(vectors).max(axis=1) if len(vectors) else np.zeros(0, np.float32)
    scales = np.where(peaks > 0, peaks / 127.0, 1.0).astype(np.float32)
    return np.round(vectors / scales[:, None]).astype(np.int8), scales


class VectorIndex:
    """Unit vectors of one dimension, by slot. Not thread-safe: the caller locks."""

    def __init__(self, dimension: int) -> None:
        self.dimension = dimension
        # Packed rows live only in their parts, as onnxruntime holds them (an int8 column per slot); a second copy
        # here would be ~38 MB at 100k rows, since onnxruntime keeps the arrays it was handed for its session's life.
        self._packed: list[_PackedRows] = []  # slots [0, packed rows), in order
        self._tail = np.zeros((0, dimension), dtype=np.float32)  # the slots after them, exact

    @property
    def size(self) -> int:
        """Rows (slots) held."""
        return (self._packed[-1].end if self._packed else 0) + len(self._tail)

    def add(self, vectors: np.ndarray) -> None:
        """Append rows for the next slots."""
        vectors = np.asarray(vectors, dtype=np.float32).reshape(-1, self.dimension)
        self._tail = np.vstack([self._tail, vectors]) if len(self._tail) else vectors.copy()
        if len(self._tail) > _TAIL_ROWS:
            self._pack(*self._columns())

    def keep(self, kept: np.ndarray) -> None:
        """Keep only these slots, renumbered in order (new slot i was kept[i]), and pack them."""
        columns, scales = self._columns()
        self._pack(columns[:, kept], scales[kept])

    def search(self) -> "VectorSearch":
        """A view of the rows as they are now, to search without the caller's lock: later writes replace what it
        holds rather than change it."""
        return VectorSearch(self._packed, self._tail)

    def export(self) -> dict[str, np.ndarray]:
        """Arrays to save; `restore` reads them back."""
        columns, scales = self._columns()
        return {"vector_columns": columns, "vector_scales": scales}

    @classmethod
    def restore(cls, dimension: int, arrays: dict[str, np.ndarray]) -> "VectorIndex":
        """The index `export` described, packed."""
        columns = np.asarray(arrays["vector_columns"], dtype=np.int8).reshape(dimension, -1)
        scales = np.asarray(arrays["vector_scales"], dtype=np.float32).reshape(-1)
        if len(scales) != columns.shape[1]:
            raise ValueError(f"{len(scales)} vector scales for {columns.shape[1]} vectors")
        index = cls(dimension)
        index._pack(columns, scales)
        return index

    def _columns(self) -> tuple[np.ndarray, np.ndarray]:
        """Every slot's int8 column (stored transposed, as onnxruntime multiplies them: transposing 100k rows took
        0.2 s of every start) and scale, the exact tail quantized."""
        rows, scales = quantized(self._tail)
        return (
            np.concatenate([part.columns for part in self._packed] + [rows.T], axis=1),
            np.concatenate([part.scales for part in self._packed] + [scales]),
        )

    def _pack(self, columns: np.ndarray, scales: np.ndarray) -> None:
        size = columns.shape[1]
        parts = 2 if size >= _SPLIT_ROWS else 1
        bounds = [size * part // parts for part in range(parts + 1)]
        self._packed = [
            _PackedRows(columns[:, start:end], scales[start:end], start) for start, end in zip(bounds, bounds[1:]) if end > start
        ]
        self._tail = np.zeros((0, self.dimension), dtype=np.float32)


def rescored(candidates: np.ndarray, query: np.ndarray, n: int, exact: ExactRows) -> list[tuple[int, float]]:
    """The `n` best candidate slots by their exact cosine to the query, best first, as (slot, similarity)."""
    if not len(candidates):
        return []
    similarities = exact(candidates) @ np.asarray(query, dtype=np.float32).reshape(-1)
    order = np.argsort(-similarities, kind="stable")[:n]
    return [(int(candidates[i]), float(similarities[i])) for i in order]


class VectorSearch:
    """The rows of a VectorIndex at one moment: packed rows in onnxruntime and the exact tail after them."""

    def __init__(self, packed: "list[_PackedRows]", tail: np.ndarray) -> None:
        self._packed = packed
        self._tail = tail

    def candidates(self, query: np.ndarray, n: int, excluded: np.ndarray | None = None, helper: Executor | None = None) -> np.ndarray:
        """The slots (ascending) of the `n * _RESCORED` rows nearest the unit vector by approximate score, leaving
        out the slots `excluded` marks. Without many exclusions onnxruntime returns only its top rows (no array of
        every row's score is made: ~0.4 MB a query at 100k rows). With a `helper` thread (a free core), the first
        packed half is scored there meanwhile."""
        query = np.asarray(query, dtype=np.float32).reshape(-1)
        wanted = n * _RESCORED
        parts = list(self._packed)
        lent = helper.submit(_part_best, parts.pop(0), query, wanted, excluded) if helper and len(parts) > 1 else None
        found = [_part_best(part, query, wanted, excluded) for part in parts]
        if len(self._tail):
            start = self._packed[-1].end if self._packed else 0
            found.append(_best(np.arange(start, start + len(self._tail)), self._tail @ query, wanted, excluded))
        if lent is not None:
            found.append(lent.result())
        if not found:
            return np.zeros(0, np.int64)
        slots, scores = (np.concatenate(columns) for columns in zip(*found, strict=True))
        return np.sort(_best(slots, scores, wanted)[0])


def _part_best(part: "_PackedRows", query: np.ndarray, wanted: int, excluded: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """The `wanted` best (slots, approximate scores) of one packed part, excluded slots left out."""
    skipped = int(np.count_nonzero(excluded[part.start : part.end])) if excluded is not None else 0
    if wanted + skipped < part.rows // 4:
        scores, rows = part.top(query, wanted + skipped)
    else:
        scores, rows = part.scores(query), np.arange(part.rows)
    return _best(rows + part.start, scores, wanted, excluded if skipped else None)


def _best(slots: np.ndarray, scores: np.ndarray, n: int, excluded: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The `n` best-scoring (slots, scores), in no order, leaving out the slots `excluded` marks."""
    if excluded is not None:
        keep = ~excluded[slots]
        slots, scores = slots[keep], scores[keep]
    if len(slots) > n:
        chosen = np.argpartition(-scores, n - 1)[:n]
        return slots[chosen], scores[chosen]
    return slots, scores


class _PackedRows:
    """int8 rows (slots start, start + 1, ...) in an onnxruntime session: the query quantized to uint8, one int8
    matrix product, the row scales; then either every score or only the top k. The rows reach onnxruntime as external
    initializers, without serializing them into the model; onnxruntime keeps the arrays handed over (and its own
    prepacked copy) for the session's life, so these two are the part's only int8 rows."""

    def __init__(self, columns: np.ndarray, scales: np.ndarray, start: int = 0) -> None:
        import onnxruntime
        from onnx import TensorProto, helper

        dimension, self.rows = columns.shape
        self.start, self.end = start, start + self.rows
        self.columns = np.ascontiguousarray(columns, dtype=np.int8)  # onnxruntime keeps these two arrays
        self.scales = np.ascontiguousarray(scales, dtype=np.float32)
        columns, scales = self.columns, self.scales
        graph = helper.make_graph(
            [
                helper.make_node("DynamicQuantizeLinear", ["query"], ["q", "q_scale", "q_zero"]),
                helper.make_node("MatMulInteger", ["q", "rows", "q_zero"], ["dot"]),
                helper.make_node("Cast", ["dot"], ["dot_f"], to=TensorProto.FLOAT),
                helper.make_node("Mul", ["dot_f", "row_scales"], ["row_scaled"]),
                helper.make_node("Mul", ["row_scaled", "q_scale"], ["scores"]),
                helper.make_node("TopK", ["scores", "k"], ["top_scores", "top_rows"], axis=-1),
            ],
            "vector_scores",
            [helper.make_tensor_value_info("query", TensorProto.FLOAT, [1, dimension]), helper.make_tensor_value_info("k", TensorProto.INT64, [1])],
            [
                helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, self.rows]),
                helper.make_tensor_value_info("top_scores", TensorProto.FLOAT, [1, None]),
                helper.make_tensor_value_info("top_rows", TensorProto.INT64, [1, None]),
            ],
            initializer=[_external("rows", TensorProto.INT8, columns.shape), _external("row_scales", TensorProto.FLOAT, scales.shape)],
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1  # one query, one core: the other stays free for the next request
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        values = [onnxruntime.OrtValue.ortvalue_from_numpy(columns), onnxruntime.OrtValue.ortvalue_from_numpy(scales)]
        options.add_external_initializers(["rows", "row_scales"], values)
        self._session = onnxruntime.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        self._no_k = np.ones(1, dtype=np.int64)

    def scores(self, query: np.ndarray) -> np.ndarray:
        """Every row's approximate score."""
        (scores,) = self._session.run(["scores"], {"query": query.reshape(1, -1), "k": self._no_k})
        return np.asarray(scores, dtype=np.float32).reshape(-1)

    def top(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, rows) of the k best rows, best first."""
        scores, rows = self._session.run(["top_scores", "top_rows"], {"query": query.reshape(1, -1), "k": np.array([k], dtype=np.int64)})
        return np.asarray(scores, dtype=np.float32).reshape(-1), np.asarray(rows, dtype=np.int64).reshape(-1)


def _external(name: str, data_type: int, shape: tuple[int, ...]) -> "TensorProto":
    """An initializer whose data is handed to onnxruntime separately (`add_external_initializers`)."""
    from onnx import TensorProto

    tensor = TensorProto(name=name, data_type=data_type, dims=list(shape), data_location=TensorProto.EXTERNAL)
    tensor.external_data.add(key="location", value="handed-over")
    return tensor
