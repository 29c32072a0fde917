"""Short answers: a model copies, out of the one sentence an answer cites, the fewest words that answer the question
("Alaska Airlines", "60 per cent"); kept only when copied from that sentence and saying more than the question. The
cited sentence stays the answer; the short answer is given beside it."""

import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from rag.answer import PREMISE_CORRECTION
from rag.check import one_line
from rag.conversation import Turn
from rag.errors import UpstreamError
from rag.generate import Deadline, LanguageModel, Message
from rag.reader import adds_to, copied_from
from rag.types import Answer, Passage, StreamEvent

if TYPE_CHECKING:
    from rag.pipeline import Answerer

log = logging.getLogger("rag.short")

SHORT_SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "string"}},
    "required": ["answer"],
    "additionalProperties": False,
}
SHORT_PROMPT = (
    "You answer questions about news from one sentence. The user sends one sentence from a news article and a "
    'question. Reply with JSON {"answer": "..."} where answer is the shortest words of the sentence that answer '
    "the question (a name, a number with its unit, a place, a date, or a short phrase), copied exactly. "
    'If the sentence does not answer it, reply {"answer": ""}.\n\n'
    "Example.\nSentence: Acme Corp said on Monday it would buy Beta Ltd for $2 billion.\n"
    'Question: How much will Acme pay for Beta?\nReply: {"answer": "$2 billion"}'
)
_MAX_TOKENS = 40


def short_answer(generator: LanguageModel, sentence: str, question: str, deadline: Deadline) -> str | None:
    """The words of `sentence` answering `question`, as the sentence writes them, or None when the model copies
    nothing that holds up (words the sentence does not hold, or only the question's own words). The sentence has
    passed the answerer's gates already; the asked kind is not held against the span ("What were the wind speeds when
    Otis made landfall?" asks no date), which lost 3 of 196 right short answers on three eval sets and caught none."""
    user = f"Sentence: {one_line(sentence)}\nQuestion: {one_line(question)}"
    messages: list[Message] = [{"role": "system", "content": SHORT_PROMPT}, {"role": "user", "content": user}]
    reply = generator.complete(messages, _MAX_TOKENS, deadline, SHORT_SCHEMA)
    try:
        span = str(json.loads(reply)["answer"]).strip()
    except (json.JSONDecodeError, KeyError, TypeError):
        log.warning("the model's short answer is not the JSON asked for: %r", reply[:200])
        return None
    copied = copied_from(span, sentence, question) if span else None
    if copied is None or not adds_to(question, copied):
        return None
    return copied


class ShortAnswerer:
    """Another answerer's answers, each given with the short answer a model copies out of its first cited sentence.
    A refusal, a premise correction or an answer already short (the reader's) is left as it is; a model that fails
    leaves the answer without a short one: the sentence still answers."""

    def __init__(self, inner: "Answerer", generator: LanguageModel, deadline_s: float) -> None:
        self._inner = inner
        self._generator = generator
        self._deadline_s = deadline_s
        self.name = inner.name

    def standalone(self, turns: Sequence[Turn]) -> str:
        return self._inner.standalone(turns)

    def prepare(self, wait: bool) -> None:
        prepare = getattr(self._inner, "prepare", None)
        if prepare is not None:
            prepare(wait)

    def answer(self, question: str, passages: Sequence[Passage]) -> Answer:
        return self.shortened(question, self._inner.answer(question, passages))

    def shortened(self, question: str, answer: Answer) -> Answer:
        """The answer with its short answer, when it has a cited sentence to copy one from."""
        if answer.refused or not answer.citations or answer.short or answer.answer.startswith(PREMISE_CORRECTION):
            return answer
        try:
            short = short_answer(self._generator, answer.citations[0].quote, question, Deadline(self._deadline_s))
        except UpstreamError as exc:
            log.warning("no short answer, the model failed: %s", exc)
            return answer
        return replace(answer, short=short)

    def stream(self, question: str, passages: Sequence[Passage]) -> Iterator[StreamEvent]:
        """The inner answerer's events, its final answer given its short answer."""
        for event in self._inner.stream(question, passages):
            if event.kind == "final" and event.answer is not None:
                yield replace(event, answer=self.shortened(question, event.answer))
            else:
                yield event

