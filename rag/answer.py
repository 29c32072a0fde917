"""The extractive answerer: pick the sentence (or clause) that answers, cite its exact span, or refuse."""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rag.question import QuestionShape, fits_kind, shape_of
from rag.terms import terms
from rag.types import Answer, Citation, Passage

REFUSAL = "The articles don't say: none of the stored articles answers this question."

# Weights of the sentence score; the refusal gates are settings, calibrated on eval/datasets (calibration split).
_LEXICAL_WEIGHT = 0.12
_CONTEXT_WEIGHT = 0.04
_RANK_PENALTY = 0.004
_CLAUSE_SPLIT = re.compile(r",\s+(?=(?:while|whereas|but|although|though)\b)|;\s+")


@dataclass(frozen=True)
class _Candidate:
    passage: Passage
    sentence: int
    text: str
    similarity: float
    coverage: float
    covered: frozenset[str]
    fits: bool
    score: float


class ExtractiveAnswerer:
    """Answers with sentences taken verbatim from the retrieved passages; refuses when none fits."""

    name = "extractive"

    def __init__(self, idf: Callable[[str], float], knows: Callable[[str], bool], min_similarity: float, min_coverage: float) -> None:
        self._idf = idf
        self._knows = knows
        self._min_similarity = min_similarity
        self._min_coverage = min_coverage

    def answer(self, question: str, passages: Sequence[Passage]) -> Answer:
        """A short cited answer from the passages, or a refusal (`refused=True`, no citations)."""
        shape = shape_of(question)
        if any(not self._knows_name(name) for name in shape.names):
            return Answer(REFUSAL, True, ())
        weights = self._term_weights(question)
        candidates = [c for c in self._candidates(shape, weights, passages) if self._supported(c, shape)]
        if not candidates:
            return Answer(REFUSAL, True, ())
        best = max(candidates, key=lambda c: c.score)
        chosen = [best] + self._complement(best, candidates, weights)
        parts: list[str] = []
        citations: list[Citation] = []
        for n, candidate in enumerate(chosen, start=1):
            parts.append(f"{_shorten(candidate.text, shape, weights)} [{n}]")
            citations.append(_citation(n, candidate))
        return Answer(" ".join(parts), False, tuple(citations))

    def _knows_name(self, name: str) -> bool:
        stems = terms(name)
        return not stems or all(self._knows(stem) for stem in stems)

    def _term_weights(self, question: str) -> dict[str, float]:
        weights: dict[str, float] = {}
        for term in terms(question):
            weights[term] = max(self._idf(term), 0.5)
        return weights

    def _candidates(self, shape: QuestionShape, weights: dict[str, float], passages: Sequence[Passage]) -> list[_Candidate]:
        total = sum(weights.values()) or 1.0
        found: list[_Candidate] = []
        for rank, passage in enumerate(passages):
            chunk = passage.chunk
            context = set(terms(f"{passage.document.title}\n{chunk.text}"))
            context_coverage = sum(w for t, w in weights.items() if t in context) / total
            for index, (start, end) in enumerate(chunk.sentences):
                text = chunk.text[start - chunk.start : end - chunk.start]
                sentence_terms = set(terms(text))
                covered = frozenset(t for t in weights if t in sentence_terms)
                coverage = sum(weights[t] for t in covered) / total
                similarity = passage.sentence_scores[index] if passage.sentence_scores else passage.dense_score
                fits = fits_kind(text, shape.kind, shape.names)
                score = (
                    similarity
                    + _LEXICAL_WEIGHT * coverage
                    + _CONTEXT_WEIGHT * context_coverage
                    - _RANK_PENALTY * rank
                    + (0.03 if fits else -0.05)
                )
                found.append(_Candidate(passage, index, text, similarity, coverage, covered, fits, score))
        return found

    def _supported(self, candidate: _Candidate, shape: QuestionShape) -> bool:
        """The refusal gates: close enough in meaning, about the question's names, of the right kind."""
        if candidate.similarity < self._min_similarity or not candidate.fits:
            return False
        if candidate.coverage < self._min_coverage and candidate.similarity < self._min_similarity + 0.04:
            return False
        if shape.names:
            context = f"{candidate.passage.document.title}\n{candidate.passage.chunk.text}".lower().replace("’", "'")
            if not any(name in context for name in shape.names):
                return False
        return True

    def _complement(self, best: _Candidate, candidates: list[_Candidate], weights: dict[str, float]) -> list[_Candidate]:
        """A second sentence, from another article, when it covers question terms the first one misses."""
        total = sum(weights.values()) or 1.0
        extra = [
            c
            for c in candidates
            if c.passage.document.id != best.passage.document.id
            and c.similarity >= best.similarity - 0.02
            and sum(weights[t] for t in c.covered - best.covered) / total >= 0.25
        ]
        return [max(extra, key=lambda c: c.score)] if extra else []


def _shorten(sentence: str, shape: QuestionShape, weights: dict[str, float]) -> str:
    """The clause of a long sentence that holds the question's names and fact, else the whole sentence."""
    clauses = _CLAUSE_SPLIT.split(sentence)
    if len(clauses) < 2 or len(sentence.split()) < 25:
        return sentence
    scored = []
    for clause in clauses:
        clause_terms = set(terms(clause))
        has_names = all(name in clause.lower() for name in shape.names) if shape.names else False
        if has_names and fits_kind(clause, shape.kind, shape.names) and len(clause.split()) >= 5:
            scored.append((sum(weights.get(t, 0.0) for t in clause_terms), clause))
    if len(scored) != 1:
        return sentence
    clause = re.sub(r"^(while|whereas|but|although|though)\s+", "", scored[0][1].strip(), flags=re.I)
    clause = clause[0].upper() + clause[1:]
    return clause if clause.endswith((".", "!", "?", "”", '"')) else clause + "."


def _citation(n: int, candidate: _Candidate) -> Citation:
    passage = candidate.passage
    start, end = passage.chunk.sentences[candidate.sentence]
    return Citation(
        n=n,
        document_id=passage.document.id,
        chunk_id=passage.chunk.id,
        title=passage.document.title,
        url=passage.document.url,
        published=passage.document.published,
        source=passage.document.source,
        text=passage.chunk.text.strip(),
        start=start,
        end=end,
        quote=candidate.text,
        score=round(candidate.similarity, 4),
    )

