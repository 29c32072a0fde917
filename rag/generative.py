"""The LLM answerer: gate, prompt, generate, verify every sentence; the extractive answer when nothing survives."""

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

from rag.answer import REFUSAL, ExtractiveAnswerer, cite
from rag.conversation import Turn, carry_context, condense
from rag.errors import UpstreamError
from rag.generate import Deadline, LanguageModel
from rag.question import asks_reason, fits_kind, gives_reason, shape_of
from rag.terms import terms
from rag.prompt import Evidence, build_messages, says_not_in_articles, select_evidence
from rag.types import Answer, Citation, Passage, StreamEvent, Verification
from rag.verify import CheckedClaim, check_claims, split_claims

log = logging.getLogger("rag.generative")
MAX_SENTENCES = 2
# A second sentence whose evidence is this much less similar to the question than the first one's is padding
# (on a news article here: the lead scored 0.806-0.853 where the answering sentence scored 0.833-0.899).
_CLOSENESS_MARGIN = 0.02
# The extractive answer replaces the model's when its sentence is closer to the question than any the model used by
# more than this (the model, 0.5B, took a nearby true sentence that does not answer; measured in _verified).
_CLOSENESS_MARGIN_OVER_MODEL = 0.005


@dataclass(frozen=True)
class GenerationLimits:
    """How much evidence the model reads, how long it may write, and what happens when it fails."""

    passages: int = 3
    prompt_tokens: int = 1500
    max_tokens: int = 160
    deadline_s: float = 30.0
    degrade_on_failure: bool = False
    condense_with_model: bool = True


class GenerativeAnswerer:
    """Answers written by an LLM from numbered passages; no sentence reaches the user unless its citations hold it up."""

    def __init__(
        self,
        generator: LanguageModel,
        extractive: ExtractiveAnswerer,
        count_tokens: Callable[[str], int],
        knows: Callable[[str], bool],
        limits: GenerationLimits = GenerationLimits(),
    ) -> None:
        self._generator = generator
        self._extractive = extractive
        self._count_tokens = count_tokens
        self._knows = knows
        self._limits = limits
        self.name = generator.name

    def standalone(self, turns: Sequence[Turn]) -> str:
        """The conversation's last question rewritten by the model to stand alone (checked; carried context if not)."""
        if not self._limits.condense_with_model:
            return carry_context(turns)
        return condense(turns, self._generator, Deadline(min(10.0, self._limits.deadline_s / 3)))

    def answer(self, question: str, passages: Sequence[Passage]) -> Answer:
        """The verified LLM answer, the extractive one when no sentence survives, or a refusal."""
        events = self.stream(question, passages, stream_text=False)
        return next(e.answer for e in events if e.answer is not None)

    def stream(self, question: str, passages: Sequence[Passage], stream_text: bool = True) -> Iterator[StreamEvent]:
        """The passages, the model's text as it is written, then the verified answer (which replaces that text)."""
        yield StreamEvent("passages", passages=tuple(passages))
        if self._extractive.off_topic(question, passages):
            yield self._final(Answer(REFUSAL, True, (), verification=Verification(0, 0, 0, False)))
            return
        denied = self._extractive.denied(question, self._extractive.candidates(question, passages))
        if denied is not None:  # "Why did X appeal?" where the article says X will not: no model can give a reason
            yield self._final(denied)
            return
        evidence = select_evidence(_shown(passages, self._limits.passages), self._count_tokens, self._limits.prompt_tokens)
        messages = build_messages(question, evidence)
        deadline = Deadline(self._limits.deadline_s)
        pieces: list[str] = []
        try:
            if stream_text:
                for piece in self._generator.stream(messages, self._limits.max_tokens, deadline):
                    pieces.append(piece)
                    yield StreamEvent("delta", text=piece)
            else:
                pieces.append(self._generator.complete(messages, self._limits.max_tokens, deadline))
        except UpstreamError as exc:
            if not self._limits.degrade_on_failure:
                raise
            log.warning("LLM failed, answering extractively: %s", exc)
            yield self._final(replace(self._extractive.answer(question, passages), degraded=True))
            return
        yield self._final(self._verified(question, passages, evidence, "".join(pieces)))

    def _verified(self, question: str, passages: Sequence[Passage], evidence: list[Evidence], text: str) -> Answer:
        claims = [] if says_not_in_articles(text) else split_claims(text)
        checked = check_claims(claims, evidence, self._knows, question)
        supported = [c for c in checked if c.status != "unsupported"]
        addressed = [c for c in supported if self._extractive.addresses(question, c.claim.text, _evidence_around(c))]
        if asks_reason(question):  # "Why…?" is not answered by restating what happened
            addressed = [c for c in addressed if gives_reason(f"{c.claim.text} {_evidence_around(c, neighbours=0)}")]
        kept = self._most_relevant(question, addressed)
        repaired = sum(c.status == "repaired" for c in kept)
        if not kept:
            fallback = self._extractive.answer(question, passages)
            report = Verification(len(checked), 0, 0, fallback=True)
            return replace(fallback, verification=report)
        extractive = self._extractive.answer(question, passages)
        if not extractive.refused and max(c.score for c in extractive.citations) > max(map(_closeness, kept)) + _CLOSENESS_MARGIN_OVER_MODEL:
            # the model answered from a sentence further from the question than one the extractive answerer found:
            # on 94 questions over 5 articles, where the two disagreed so, the extractive sentence was right 4 of 4
            return replace(extractive, verification=Verification(len(checked), 0, 0, fallback=True))
        answer, citations = _compose(kept)
        return Answer(answer, False, citations, verification=Verification(len(checked), len(kept) - repaired, repaired, False))

    def _most_relevant(self, question: str, kept: list[CheckedClaim]) -> list[CheckedClaim]:
        """At most two sentences (a model that copies whole passages buries the answer): those of the asked kind
        that cover the question's rarest words best, in the model's order; a sentence resting on passage sentences
        much further from the question than the best one's is left out (a model pads with the passage's lead)."""
        closest = max(_closeness(c) for c in kept) if kept else 0.0
        kept = [c for c in kept if _closeness(c) >= closest - _CLOSENESS_MARGIN]
        if len(kept) <= MAX_SENTENCES:
            return kept
        shape = shape_of(question)
        weights = self._extractive.term_weights(question)

        def relevance(claim: CheckedClaim) -> tuple[bool, float]:
            present = set(terms(claim.claim.text))
            return fits_kind(claim.claim.text, shape.kind, shape.names), sum(w for t, w in weights.items() if t in present)

        best = sorted(kept, key=relevance, reverse=True)[:MAX_SENTENCES]
        return [claim for claim in kept if claim in best]

    def _final(self, answer: Answer) -> StreamEvent:
        return StreamEvent("final", answer=replace(answer, answerer=self.name))


def _closeness(claim: CheckedClaim) -> float:
    """How close in meaning to the question the passage sentences holding a claim up are (the best of them)."""
    return max((e.passage.sentence_scores[i] for e, i in claim.support if e.passage.sentence_scores), default=0.0)


def _shown(passages: Sequence[Passage], count: int) -> list[Passage]:
    """The best passages, the last place going to another article's best when the others all come from one
    (a question may need a fact from each article)."""
    shown = list(passages[:count])
    if count < 2 or len({p.document.id for p in shown}) > 1:
        return shown
    other = next((p for p in passages[count:] if p.document.id != shown[0].document.id), None)
    return shown[:-1] + [other] if other else shown


def _evidence_around(claim: CheckedClaim, neighbours: int = 1) -> str:
    """The sentences a claim rests on and their neighbours (an extractive candidate is judged with those too)."""
    parts = []
    for evidence, index in claim.support:
        chunk = evidence.passage.chunk
        for near in range(max(0, index - neighbours), min(len(chunk.sentences), index + neighbours + 1)):
            parts.append(chunk.sentence(near))
    return " ".join(parts)


def _compose(kept: Sequence[CheckedClaim]) -> tuple[str, tuple[Citation, ...]]:
    """The surviving sentences with markers renumbered in order of first use, and one citation per cited sentence."""
    numbers: dict[tuple[str, int], int] = {}
    citations: list[Citation] = []
    parts = []
    for claim in kept:
        marks = []
        for evidence, sentence in claim.support:
            key = (evidence.passage.chunk.id, sentence)
            if key not in numbers:
                numbers[key] = len(numbers) + 1
                score = evidence.passage.sentence_scores[sentence] if evidence.passage.sentence_scores else evidence.passage.score
                citations.append(cite(numbers[key], evidence.passage, sentence, score))
            marks.append(f"[{numbers[key]}]")
        parts.append(f"{claim.claim.text} {''.join(marks)}")
    return " ".join(parts), tuple(citations)
