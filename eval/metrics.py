"""Per-question verdicts and the summary rates (with bootstrap confidence intervals)."""

import math
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

from eval.dataset import EvalQuestion
from eval.match import contains, normalize
from rag.answer import NOT_SAID

_MARKER = re.compile(r"\s*\[\d+\]")
_NOT_SAID = re.compile(rf"{re.escape(NOT_SAID)}[^.]*\.")
_NUMBER = re.compile(r"(?<![\w.,])\d[\d,.]*\d(?!\w)|(?<![\w.,])\d(?!\w)")
_POSSESSIVE = re.compile(r"['’]s$")
_NAME = re.compile(r"(?<![\w’'])[A-Z][\w’'-]*\w")
# Capitalized only because they open a sentence: not names, so not claims.
_OPENERS = frozenset("according however yes no overall also meanwhile so thus therefore additionally instead".split())


@dataclass(frozen=True)
class CitedPassage:
    """What the evaluation needs of one citation."""

    document_id: str
    text: str
    quote: str


@dataclass(frozen=True)
class Observation:
    """What the system under test returned for one question."""

    answer: str
    refused: bool
    citations: tuple[CitedPassage, ...]
    retrieved: tuple[str, ...]
    latency_ms: float
    error: str | None = None
    short: str | None = None


@dataclass
class Verdict:
    """How one answer scored."""

    id: str
    type: str
    split: str
    question: str
    answer: str
    refused: bool
    correct: bool
    citations: list[dict[str, str]]
    supporting_citations: int
    unsupported_claims: list[str]
    retrieval_rank: int | None
    latency_ms: float
    notes: list[str] = field(default_factory=list)
    short_answer: str | None = None
    short_correct: bool = False

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def judge(question: EvalQuestion, seen: Observation) -> Verdict:
    """Score one observation against the question's aliases, evidence and type."""
    notes: list[str] = []
    if seen.error:
        correct = False
        notes.append(f"no answer: {seen.error}")
    elif question.expects_refusal:
        correct = seen.refused
        if not correct:
            notes.append("answered a question the articles do not answer")
    else:
        correct = answer_matches(question, seen.answer) and not seen.refused
        if seen.refused:
            notes.append("refused an answerable question")
        elif not correct:
            notes.append("answer does not contain an accepted alias (or contains a forbidden one)")
    supporting = sum(1 for c in seen.citations if any(contains(c.text, a) for a in question.answers))
    return Verdict(
        id=question.id,
        type=question.type,
        split=question.split,
        question=question.question,
        answer=seen.answer,
        refused=seen.refused,
        correct=correct,
        citations=[{"document_id": c.document_id, "quote": c.quote} for c in seen.citations],
        supporting_citations=supporting,
        unsupported_claims=[] if seen.refused else unsupported_claims(seen.answer, [c.text for c in seen.citations]),
        retrieval_rank=evidence_rank(question.evidence, seen.retrieved),
        latency_ms=seen.latency_ms,
        notes=notes,
        short_answer=seen.short,
        short_correct=correct and seen.short is not None and short_matches(question, seen.short),
    )


def answer_matches(question: EvalQuestion, answer: str) -> bool:
    """An alias is in the answer, every `must_also` is, and no `must_not` is."""
    return (
        any(contains(answer, alias) for alias in question.answers)
        and all(contains(answer, alias) for alias in question.must_also)
        and not any(contains(answer, alias) for alias in question.must_not)
    )


def short_matches(question: EvalQuestion, short: str) -> bool:
    """A short answer names an alias and no forbidden one (a part of a two-part answer need not name the rest)."""
    return any(contains(short, alias) for alias in question.answers) and not any(contains(short, alias) for alias in question.must_not)


def unsupported_claims(answer: str, cited_texts: Sequence[str]) -> list[str]:
    """Numbers and capitalized names in the answer that none of its cited passages contains (a sentence saying the
    articles don't say something claims nothing)."""
    text = _NOT_SAID.sub("", _MARKER.sub("", answer))
    evidence = normalize(" ".join(cited_texts))
    names = {_POSSESSIVE.sub("", m.group()) for m in _NAME.finditer(text) if m.group().lower() not in _OPENERS}
    claims = {m.group() for m in _NUMBER.finditer(text)} | names
    return [claim for claim in sorted(claims) if not _cited(claim, evidence)]


def _cited(claim: str, evidence: str) -> bool:
    """Whether the normalized evidence holds the claim as a word, or each part of a hyphenated one ("China-made" of
    "EVs made in China", "Paris-based" of "based in Paris")."""
    needle = normalize(claim)
    if not needle or _holds_word(evidence, needle):
        return True
    parts = needle.split() if "-" in claim else []  # normalize() reads the hyphen as a space
    return len(parts) > 1 and all(_holds_word(evidence, part) for part in parts)


def _holds_word(text: str, word: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(word)}(?!\w)", text) is not None


def evidence_rank(evidence: Sequence[str], retrieved: Sequence[str]) -> int | None:
    """1-based rank of the first retrieved passage that holds any evidence quote (None without evidence; 0 if missed)."""
    if not evidence:
        return None
    quotes = [normalize(q) for q in evidence]
    for rank, passage in enumerate(retrieved, start=1):
        text = normalize(passage)
        if any(q in text for q in quotes):
            return rank
    return 0


Rate = dict[str, float | int | None]


def rate(values: Sequence[bool], seed: int = 0, rounds: int = 1000) -> Rate:
    """Share of True with a 95% percentile-bootstrap interval and the count it rests on."""
    n = len(values)
    if n == 0:
        return {"value": None, "low": None, "high": None, "n": 0}
    mean = sum(values) / n
    rng = random.Random(seed)
    samples = sorted(sum(rng.choices(values, k=n)) / n for _ in range(rounds))
    return {"value": round(mean, 4), "low": round(samples[int(0.025 * rounds)], 4), "high": round(samples[int(0.975 * rounds) - 1], 4), "n": n}


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (nearest rank) of the values."""
    if not values:
        return None
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1))
    return round(ordered[index], 2)


def summarize(verdicts: Sequence[Verdict]) -> dict[str, object]:
    """Every rate overall and per question type."""
    summary: dict[str, object] = {"overall": _rates(verdicts), "questions": len(verdicts)}
    by_type: dict[str, object] = {}
    for qtype in sorted({v.type for v in verdicts}):
        by_type[qtype] = _rates([v for v in verdicts if v.type == qtype])
    summary["by_type"] = by_type
    return summary


def _rates(verdicts: Sequence[Verdict]) -> dict[str, object]:
    answerable = [v for v in verdicts if v.type in ("answerable", "multi_doc")]
    premise = [v for v in verdicts if v.type == "false_premise"]
    unanswerable = [v for v in verdicts if v.type == "unanswerable"]
    expected_answer = answerable + premise
    answered_right = [v for v in expected_answer if v.correct]
    answered = [v for v in verdicts if not v.refused]
    ranked = [v.retrieval_rank for v in verdicts if v.retrieval_rank is not None]
    precision_values: list[bool] = [
        c for v in answered_right for c in [True] * v.supporting_citations + [False] * (len(v.citations) - v.supporting_citations)
    ]
    latencies = [v.latency_ms for v in verdicts]
    one: Callable[[Sequence[bool]], Rate] = rate
    return {
        "answer_accuracy": one([v.correct for v in answerable]),
        "false_premise_handling": one([v.correct or v.refused for v in premise]),
        "false_premise_corrected": one([v.correct for v in premise]),
        "refusal_accuracy": one([v.refused for v in unanswerable]),
        "false_refusals": one([v.refused for v in expected_answer]),
        "citation_support": one([v.supporting_citations > 0 for v in answered_right]),
        # none at all given: the answerer gives no short answers (the check off), not every one wrong
        "short_answers": one([v.short_correct for v in answerable if v.correct] if any(v.short_answer for v in verdicts) else []),
        "citation_precision": one(precision_values),
        "unsupported_claims": sum(len(v.unsupported_claims) for v in answered),
        "hit_at_1": one([r == 1 for r in ranked]),
        "hit_at_k": one([r > 0 for r in ranked]),
        "mrr": round(sum(1 / r for r in ranked if r > 0) / len(ranked), 4) if ranked else None,
        "latency_p50_ms": percentile(latencies, 50),
        "latency_p95_ms": percentile(latencies, 95),
    }
