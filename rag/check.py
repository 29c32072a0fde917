"""A model's second reading of an answer: does the cited sentence state it, for exactly this question? Asked of the
reader's every answer, and of an extractive answer only when it is in doubt (its passage never says, in any words,
a rare word the question asks about: "runner-up" answered from "The champions each receive £2 million"); and of an
extractive refusal whose best sentences failed only for wording the question otherwise ("taking over" / "agreed to
buy"). With short answers on, every answer is read once more: a model copies out of it the fewest words that answer,
and an answer none can be copied from is passed over."""

import json
import logging
import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from rag.answer import PREMISE_CORRECTION, REFUSAL
from rag.conversation import Turn
from rag.errors import UpstreamError
from rag.generate import TOP_TOKENS, Deadline, LanguageModel, LazyModel, Message, one_line, reply_schema
from rag.types import Answer, Citation, Passage, StreamEvent, Verification

if TYPE_CHECKING:
    from rag.pipeline import Answerer
    from rag.short import ShortAnswers

log = logging.getLogger("rag.check")

CHECK_SCHEMA = reply_schema(states_it={"type": "boolean"})
CHECK_PROMPT = (
    "You check answers to questions about news. The user sends one sentence from a news article, a question and a "
    "proposed answer. Reply with JSON {\"states_it\": true} only if the sentence itself says that the proposed "
    "answer is the answer to exactly this question; if the sentence is about something else, or the question asks "
    "about a different time, place, person or thing than the sentence, reply {\"states_it\": false}."
)
_MARKER = re.compile(r"\s*\[\d+\]")


def stated_probability(generator: LanguageModel, sentence: str, question: str, answer: str, deadline: Deadline) -> float:
    """How likely the model, asked apart, finds it that `sentence` states `answer` to `question`: its probability of
    writing true rather than false, or 1.0 / 0.0 for its word when the server tells no probabilities (0.0 on a reply
    that is not the JSON asked for)."""
    user = f"Sentence: {one_line(sentence)}\nQuestion: {one_line(question)}\nProposed answer: {one_line(answer)}"
    messages: list[Message] = [{"role": "system", "content": CHECK_PROMPT}, {"role": "user", "content": user}]
    reply = generator.complete_scored(messages, 12, deadline, CHECK_SCHEMA, TOP_TOKENS)
    try:
        said = json.loads(reply.text)["states_it"] is True
    except (json.JSONDecodeError, KeyError, TypeError):
        log.warning("the model's check is not the JSON asked for: %r", reply.text[:200])
        return 0.0
    return _true_probability(reply.places, said)


def states_answer(
    generator: LanguageModel, sentence: str, question: str, answer: str, deadline: Deadline, min_probability: float = 0.5
) -> bool:
    """Whether the model finds `sentence` stating `answer` to `question` with at least `min_probability`."""
    return stated_probability(generator, sentence, question, answer, deadline) >= min_probability


def _true_probability(places: Sequence[tuple[str, dict[str, float]]], said: bool) -> float:
    """P(true) / (P(true) + P(false)) at the place the model wrote its word (a word missing from the likeliest tokens
    there counts as never chosen); its word itself when no place tells (a server that gives no probabilities)."""
    likeliest = next((tops for token, tops in places if token.strip() in ("true", "false")), {})
    chances = {"true": 0.0, "false": 0.0}
    for token, logprob in likeliest.items():
        if token.strip() in chances:
            chances[token.strip()] += math.exp(logprob)
    total = chances["true"] + chances["false"]
    return chances["true"] / total if total else float(said)


class CheckedAnswerer:
    """Another answerer's answers, each in doubt read again by a model, and refused unless its sentence, or one of
    the next-best sentences, states it. `doubt(question, passage_text)` is how far the passage leaves the question's
    words unsaid (0 to 1); an answer at or above `min_doubt` is checked; `alternatives(question, passages, cited, n)`
    gives up to n answers from other sentences, read in turn (`tries` sentences in all); none found stating it, the
    premise correction `corrected(question, passages)` gives, if any, stands instead. A refusal is read too:
    `near_misses(question, passages, n)` gives up to n answers from sentences refused only for saying the question
    in other words, and the first the model finds stating it answers. "States it" is the model's probability of true
    at or above `min_probability`. With `short`, every answer given (to a question not asking yes or no) also needs
    the fewest words answering it copied out of its sentences (`Answer.short`): an answer none can be copied from
    (only the question's own words, or words the sentence lacks) is passed over like one not stated, whether in
    doubt or not. A model that fails leaves the doubtful answer refused (when unsure, refuse), and an answer in no doubt
    without a short answer."""

    def __init__(
        self,
        inner: "Answerer",
        generator: LanguageModel,
        doubt: Callable[[str, str], float],
        min_doubt: float,
        deadline_s: float,
        alternatives: Callable[[str, Sequence[Passage], Sequence[Citation], int], list[Answer]],
        near_misses: Callable[[str, Sequence[Passage], int], list[Answer]],
        tries: int,
        min_probability: float,
        corrected: Callable[[str, Sequence[Passage]], Answer | None],
        short: "ShortAnswers | None" = None,
        reread: Callable[[str, Sequence[Passage]], Answer] | None = None,
        reread_below: float = 0.0,
    ) -> None:
        self._inner = inner
        self._generator = generator
        self._doubt = doubt
        self._min_doubt = min_doubt
        self._deadline_s = deadline_s
        self._alternatives = alternatives
        self._near_misses = near_misses
        self._tries = tries
        self._min_probability = min_probability
        self._corrected = corrected
        self._short = short
        self._reread = reread
        self._reread_below = reread_below
        self.name = f"{inner.name}+check"

    def standalone(self, turns: Sequence[Turn]) -> str:
        return self._inner.standalone(turns)

    def prepare(self, wait: bool) -> None:
        """Load a model loaded at its first use now (`wait`), or start loading it in the background, so that the first
        doubtful answer does not spend its deadline waiting for it."""
        if not isinstance(self._generator, LazyModel):
            return
        if wait:
            self._generator.load()
        else:
            self._generator.load_in_background()

    def answer(self, question: str, passages: Sequence[Passage]) -> Answer:
        """The inner answer, or when it is in doubt the first of it and its next-best alternatives (up to `tries` in
        all) whose sentence the model finds stating it; a refusal when none is found stated. A refusal of the inner
        answerer stands unless one of its near misses is found stated. A premise correction says what the articles
        state instead of what was asked: it is no answer to check."""
        answer = self._inner.answer(question, passages)
        if answer.refused:
            return self._rescued(question, passages, answer)
        if not answer.citations or answer.answer.startswith(PREMISE_CORRECTION):
            return replace(answer, answerer=self.name)
        in_doubt = self._doubt(question, answer.citations[0].text) >= self._min_doubt
        if not in_doubt and (self._short is None or not self._short.applies(question)):
            return replace(answer, answerer=self.name)
        deadline = self._deadline()
        kept = self._kept(question, answer, deadline, read=in_doubt)
        if kept is not None:
            return self._surer(question, passages, *kept)
        alternatives = self._alternatives(question, passages, answer.citations, self._tries - 1)
        stated = next((kept for alternative in alternatives if (kept := self._kept(question, alternative, deadline)) is not None), None)
        if stated is not None:
            return self._surer(question, passages, *stated)
        correction = self._corrected(question, passages)
        if correction is not None:  # "Why did Dongfeng take a 60% stake?": what the articles say instead (40%)
            return replace(correction, answerer=self.name)
        read = Verification(sentences=1 + len(alternatives), supported=0, repaired=0, fallback=False)
        return replace(answer, answerer=self.name, answer=REFUSAL, refused=True, citations=(), verification=read)

    def _rescued(self, question: str, passages: Sequence[Passage], refusal: Answer) -> Answer:
        """For a refusal: the first of the sentences refused only for saying the question in other words that the
        model finds stating the answer (up to `tries`), else the refusal."""
        near_misses = self._near_misses(question, passages, self._tries)
        if not near_misses:
            return replace(refusal, answerer=self.name)
        deadline = self._deadline()
        stated = next((kept for missed in near_misses if (kept := self._kept(question, missed, deadline)) is not None), None)
        return stated[0] if stated else replace(refusal, answerer=self.name)

    def _kept(self, question: str, answer: Answer, deadline: Deadline, read: bool = True) -> tuple[Answer, float] | None:
        """The answer as given (its short answer copied out) and how sure the model was of that copy (1.0 when none
        was asked for), or None when the model, reading it (`read`), finds its sentence not stating it, or copies no
        short answer from its sentences that holds up. A model failing to copy one leaves the answer without it."""
        if read and not self._stated(question, answer, deadline):
            return None
        if self._short is None or not self._short.applies(question):
            return replace(answer, answerer=self.name), 1.0
        said = _MARKER.sub("", answer.answer).strip()  # the cited sentences, or the clause of one that answers
        try:
            short = self._short.copied(said, question, deadline)
        except UpstreamError as exc:  # the answer stands on what was asked of it before short answers were
            log.warning("no short answer could be copied, the model failed: %s", exc)
            return replace(answer, answerer=self.name), 1.0
        return (replace(answer, answerer=self.name, short=short.span), short.confidence) if short else None

    def _surer(self, question: str, passages: Sequence[Passage], kept: Answer, confidence: float) -> Answer:
        """The kept answer, unless the model copied its short answer unsure (`confidence`, its probability of beginning
        the copy with those words, under `reread_below`): then the model reads the retrieved sentences itself (`reread`, the reader, its answer verified
        as copied and checked as stated) and the sentence it names answers instead. The kept answer stands when the
        reader refuses or fails."""
        if self._reread is None or confidence >= self._reread_below:
            return kept
        try:
            read = self._reread(question, passages)
        except UpstreamError as exc:
            log.warning("the model could not read the sentences again, the answer stands: %s", exc)
            return kept
        if read.refused or not read.citations:
            return kept
        return replace(read, answer=f"{read.citations[0].quote} [1]", answerer=self.name)

    def _deadline(self) -> Deadline:
        """The deadline of this answer's readings, started once the model is loaded: loading (assembling 1.1 GB on a
        first run) is not the answer's time. A model that cannot load fails each reading: the answer is refused."""
        try:
            self.prepare(wait=True)
        except UpstreamError as exc:
            log.warning("the check's model could not be loaded: %s", exc)
        return Deadline(self._deadline_s)

    def _stated(self, question: str, answer: Answer, deadline: Deadline) -> bool:
        """Whether the model finds the answer's first cited sentence stating it (False when the model fails)."""
        first = answer.citations[0]
        said = _MARKER.sub("", answer.answer).strip()
        try:
            return states_answer(self._generator, first.quote, question, said, deadline, self._min_probability)
        except UpstreamError as exc:
            log.warning("the check could not run, refusing the doubtful answer: %s", exc)
            return False

    def stream(self, question: str, passages: Sequence[Passage]) -> Iterator[StreamEvent]:
        """The passages, the answer's text in one piece (it is checked whole), then the answer."""
        answer = self.answer(question, passages)
        yield StreamEvent("passages", passages=tuple(passages))
        yield StreamEvent("delta", text=answer.answer)
        yield StreamEvent("final", answer=answer)

