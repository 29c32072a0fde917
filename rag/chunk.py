"""Split an article into sentences (with exact offsets) and pack them into chunks that fit the embedding window."""

import importlib.util
import os
import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

from rag.types import Article, Chunk, Span

# Punkt's English model misses these; a missed abbreviation would end a sentence early.
_ABBREVIATIONS = {
    "dr", "mr", "mrs", "ms", "prof", "st", "jr", "sr", "gen", "gov", "sen", "rep", "col", "lt", "sgt", "capt",
    "inc", "corp", "co", "ltd", "plc", "bros", "i.e", "e.g", "etc", "vs", "approx", "u.s", "u.k", "u.n", "e.u",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "mt", "ft", "no.",
}


@lru_cache(maxsize=1)
def _punkt() -> Any:
    """LlamaIndex's bundled Punkt sentence model (read from its package data, no download, no heavy import)."""
    spec = importlib.util.find_spec("llama_index.core")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("llama-index-core is not installed; reinstall the project")
    cache = os.path.join(list(spec.submodule_search_locations)[0], "_static", "nltk_cache")
    import nltk
    from nltk.tokenize.punkt import PunktTokenizer

    if cache not in nltk.data.path:
        nltk.data.path.insert(0, cache)
    tokenizer = PunktTokenizer("english")
    tokenizer._params.abbrev_types.update(_ABBREVIATIONS)
    return tokenizer


def split_sentences(text: str, offset: int = 0) -> list[Span]:
    """Sentence spans of `text` (shifted by `offset`), never crossing a line break, trimmed of spaces."""
    spans: list[Span] = []
    for line in re.finditer(r"[^\n]+", text):
        base = offset + line.start()
        for start, end in _punkt().span_tokenize(line.group()):
            for piece_start, piece_end in _split_glued(line.group(), start, end):
                spans.append((base + piece_start, base + piece_end))
    return spans


def _split_glued(line: str, start: int, end: int) -> Iterator[Span]:
    """Split sentences glued without a space ("difference.Read more") that Punkt keeps together."""
    cut = start
    for match in re.finditer(r"(?<=[a-z]{2}[.!?])(?=[A-Z][a-z])", line[start:end]):
        yield cut, start + match.start()
        cut = start + match.start()
    yield cut, end


def chunk_article(article: Article, count_tokens: Callable[[str], int], max_tokens: int) -> list[Chunk]:
    """Consecutive runs of whole sentences of about `max_tokens` tokens; together they cover the whole text."""
    sentences = split_sentences(article.text)
    if not sentences:
        return []
    groups: list[list[Span]] = [[]]
    used = 0
    for span in sentences:
        tokens = count_tokens(article.text[span[0] : span[1]])
        if groups[-1] and used + tokens > max_tokens:
            groups.append([])
            used = 0
        groups[-1].append(span)
        used += tokens
    starts = [0] + [group[0][0] for group in groups[1:]]
    ends = starts[1:] + [len(article.text)]
    return [
        Chunk(
            document_id=article.id,
            index=n,
            text=article.text[start:end],
            start=start,
            end=end,
            sentences=tuple(group),
        )
        for n, (group, start, end) in enumerate(zip(groups, starts, ends, strict=True))
    ]
