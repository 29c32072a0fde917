from rag.chunk import chunk_article, split_sentences
from rag.documents import make_article
from rag.embed import Embedder
from tests.conftest import SEEDS


def test_sentences_have_exact_offsets_and_respect_abbreviations() -> None:
    text = "Dr. Smith met U.S. officials on Monday. They agreed.\nA headline without a full stop\nIt cost $1.5 billion, i.e. a lot."
    spans = split_sentences(text)
    assert [text[a:b] for a, b in spans] == [
        "Dr. Smith met U.S. officials on Monday.",
        "They agreed.",
        "A headline without a full stop",
        "It cost $1.5 billion, i.e. a lot.",
    ]


def test_glued_sentences_are_split() -> None:
    text = "It was fine.Then it rained."
    assert [text[a:b] for a, b in split_sentences(text)] == ["It was fine.", "Then it rained."]


def test_chunks_cover_the_article_fit_the_window_and_keep_sentences_whole(real_embedder: Embedder) -> None:
    raw = (SEEDS / "000_95e71aff71832189.txt").read_text()
    article = make_article(text=raw)
    chunks = chunk_article(article, real_embedder.count_tokens, 120)
    assert len(chunks) > 3
    assert "".join(c.text for c in chunks) == article.text
    for n, chunk in enumerate(chunks):
        assert chunk.id == f"{article.id}:{n}"
        assert article.text[chunk.start : chunk.end] == chunk.text
        assert chunk.sentences[0][0] == chunk.start or n == 0
        body = " ".join(article.text[a:b] for a, b in chunk.sentences)
        if len(chunk.sentences) > 1:
            assert real_embedder.count_tokens(body) <= 120 + 2 * len(chunk.sentences)
    all_sentences = [article.text[a:b] for c in chunks for a, b in c.sentences]
    assert "Dongfeng Motor will hold a 40 per cent stake" in " ".join(all_sentences)
    assert any(s.startswith("With a registered capital of 1 billion yuan") and s.endswith("remaining 60 per cent.") for s in all_sentences)
