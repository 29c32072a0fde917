"""Evaluation questions: JSONL rows, validated with messages that name the line."""

import json
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Literal

from rag.errors import InvalidInput

QuestionType = Literal["answerable", "unanswerable", "false_premise", "multi_doc"]
_TYPES = ("answerable", "unanswerable", "false_premise", "multi_doc")


@dataclass(frozen=True)
class EvalQuestion:
    """One question with its acceptable answers (aliases) and the evidence that holds them."""

    id: str
    question: str
    answers: tuple[str, ...]
    type: QuestionType
    must_also: tuple[str, ...] = ()
    must_not: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    split: str = "test"
    asked: date | None = None  # the day the question is asked (a lead-in's "Today is …")

    @property
    def expects_refusal(self) -> bool:
        return self.type == "unanswerable"


def load_dataset(path: Path, split: str | None = None) -> list[EvalQuestion]:
    """Questions of a JSONL file (optionally one split); InvalidInput names the first bad line."""
    if not path.is_file():
        raise InvalidInput(f"no dataset at {path}")
    questions: list[EvalQuestion] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            question = _question(row)
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise InvalidInput(f"{path}:{number}: {exc}") from exc
        if split is None or question.split == split:
            questions.append(question)
    if not questions:
        raise InvalidInput(f"{path} holds no questions" + (f" in split {split!r}" if split else ""))
    return questions


def _question(row: dict) -> EvalQuestion:  # type: ignore[type-arg]
    qtype = row.get("type", "answerable")
    if qtype not in _TYPES:
        raise ValueError(f"type must be one of {', '.join(_TYPES)}, got {qtype!r}")
    answers = tuple(str(a) for a in row.get("answers", []))
    if qtype != "unanswerable" and not answers:
        raise ValueError("an answerable question needs at least one entry in 'answers'")
    if not str(row["question"]).strip():
        raise ValueError("'question' is empty")
    return EvalQuestion(
        id=str(row["id"]),
        question=str(row["question"]),
        answers=answers,
        type=qtype,
        must_also=tuple(str(a) for a in row.get("must_also", [])),
        must_not=tuple(str(a) for a in row.get("must_not", [])),
        evidence=tuple(str(e["quote"]) for e in row.get("evidence", []) if e.get("quote")),
        split=str(row.get("split", "test")),
        asked=date.fromisoformat(str(row["date"])) if row.get("date") else None,
    )


def with_lead_in(questions: list[EvalQuestion], template: str) -> list[EvalQuestion]:
    """The questions as people often send them, after a sentence of context: `template` with `{date}` filled in
    from each question's `date` ("Today is {date}." -> "Today is June 16, 2022. Which airline…")."""
    def lead(question: EvalQuestion) -> str:
        day = question.asked
        spoken = f"{day:%B} {day.day}, {day.year}" if day else "today"
        return template.replace("{date}", spoken).strip()

    return [replace(q, question=f"{lead(q)} {q.question}") for q in questions]
