"""An optional LLM judge (`--judge openai`): does the answer state the expected fact, in any wording?

Alias matching misses right answers worded differently ("two-fifths" for "40 per cent"); a judge model reads them.
It never replaces the alias matcher: its verdicts and its agreement with the matcher are reported beside it.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import openai

from eval.dataset import EvalQuestion
from eval.metrics import Verdict
from rag.config import Settings
from rag.pipeline import build_openai_client
from rag.errors import UpstreamError

JUDGE_PROMPT = (
    "You grade answers to questions about news articles. Given a question, the accepted answers and a system's "
    "answer, reply YES if the system's answer states one of the accepted answers (in any wording) and does not "
    "contradict it, otherwise NO. Reply with one word: YES or NO."
)
JUDGED_TYPES = ("answerable", "multi_doc", "false_premise")


@dataclass(frozen=True)
class JudgeReport:
    """The judge's verdicts on the answered questions it could grade, and how often it agrees with the matcher."""

    model: str
    judged: int
    judge_accuracy: float | None
    agreement: float | None
    disagreements: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        return {"model": self.model, "judged": self.judged, "judge_accuracy": self.judge_accuracy,
                "agreement": self.agreement, "disagreements": list(self.disagreements)}


class OpenAIJudge:
    """Grades with an OpenAI-compatible model (the RAG_OPENAI_* settings)."""

    def __init__(self, client: openai.OpenAI, model: str) -> None:
        self._client = client
        self.model = model

    @classmethod
    def from_settings(cls, settings: Settings) -> "OpenAIJudge":
        return cls(build_openai_client(settings, "--judge openai").with_options(max_retries=1), settings.openai_model)

    def grade(self, question: EvalQuestion, answer: str) -> bool:
        """True when the judge says the answer states an accepted answer."""
        prompt = f"Question: {question.question}\nAccepted answers: {'; '.join(question.answers)}\nSystem answer: {answer}"
        try:
            reply = self._client.chat.completions.create(
                model=self.model, temperature=0, max_tokens=3,
                messages=[{"role": "system", "content": JUDGE_PROMPT}, {"role": "user", "content": prompt}],
            )
        except openai.OpenAIError as exc:
            raise UpstreamError(f"the judge model failed: {exc}") from exc
        content = (reply.choices[0].message.content or "").strip().upper() if reply.choices else ""
        if not content.startswith(("YES", "NO")):
            raise UpstreamError(f"the judge model replied {content[:40]!r}, not YES or NO")
        return content.startswith("YES")


def judge_all(judge: OpenAIJudge, questions: Sequence[EvalQuestion], verdicts: Sequence[Verdict]) -> JudgeReport:
    """Grade every answered question with accepted answers; compare with the alias matcher."""
    graded = []
    for question, verdict in zip(questions, verdicts, strict=True):
        if question.type in JUDGED_TYPES and question.answers and not verdict.refused:
            graded.append((verdict, judge.grade(question, verdict.answer)))
    if not graded:
        return JudgeReport(judge.model, 0, None, None, ())
    agree = [v.correct == said for v, said in graded]
    return JudgeReport(
        model=judge.model,
        judged=len(graded),
        judge_accuracy=round(sum(said for _, said in graded) / len(graded), 4),
        agreement=round(sum(agree) / len(agree), 4),
        disagreements=tuple(f"{v.id}: matcher {'right' if v.correct else 'miss'}, judge {'right' if said else 'miss'}" for v, said in graded if v.correct != said),
    )
