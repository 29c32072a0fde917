"""Short answers: a model copies, out of the sentences an answer cites, the fewest words that answer the question
("Alaska Airlines", "60 per cent"), its reply constrained to their own runs of words (a JSON schema enum); kept only
when copied from them (checked again: a server may not hold to the schema) and saying more than the question. The cited
sentence stays the answer; the short answer is given beside it, and an answer none can be copied from is no answer
(rag/check.py)."""

import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

from rag.generate import TOP_TOKENS, Deadline, LanguageModel, Message, one_line, reply_schema
from rag.question import asks_yes_or_no
from rag.reader import adds_to, copied_from

log = logging.getLogger("rag.short")

SHORT_PROMPT = (
    "You answer questions about news from one sentence. The user sends one sentence from a news article and a "
    'question. Reply with JSON {"answer": "..."} where answer is the shortest words of the sentence that answer '
    "the question (a name, a number with its unit, a place, a date, or a short phrase), copied exactly. "
    'If the sentence does not answer it, reply {"answer": ""}.\n\n'
    "Example.\nSentence: Acme Corp said on Monday it would buy Beta Ltd for $2 billion.\n"
    'Question: How much will Acme pay for Beta?\nReply: {"answer": "$2 billion"}'
)
_MAX_TOKENS = 40
_MOST_WORDS = 12  # the longest short answer, in words
_MOST_SPANS = 500  # OpenAI's structured outputs take at most 500 values in an enum,
_LONG_ENUM = 250  # and an enum of more than 250 values
OPENAI_ENUM_CHARS = 7_500  # at most 7,500 characters in all

_EDGES = " .,;:!?()[]\"'“”‘’"
_LEAD_WORDS = 3  # words before a copy that may begin it without changing what it names ("glaciologist")


@dataclass(frozen=True)
class Copy:
    """A short answer as the sentence writes it, and how sure the model was of it (`copy_confidence`; 1.0 when the
    server tells no probabilities)."""

    span: str
    confidence: float = 1.0


class ShortAnswers:
    """The model copying short answers; `applies` says which questions have one to copy (not a yes-or-no question)."""

    def __init__(self, generator: LanguageModel, most_enum_chars: int | None = None) -> None:
        self._generator = generator
        self._most_enum_chars = most_enum_chars  # a server's limit on an enum's characters (OPENAI_ENUM_CHARS)

    @staticmethod
    def applies(question: str) -> bool:
        return not asks_yes_or_no(question)

    def copied(self, sentence: str, question: str, deadline: Deadline) -> Copy | None:
        """The words of `sentence` answering `question`, as the sentence writes them, or None when the model copies
        nothing that holds up (words the sentence does not hold, or only the question's own words). The sentence has
        passed the answerer's gates already; the asked kind is not held against the span ("What were the wind speeds
        when Otis made landfall?" asks no date), which lost 3 of 196 right short answers on three eval sets and
        caught none."""
        user = f"Sentence: {one_line(sentence)}\nQuestion: {one_line(question)}"
        messages: list[Message] = [{"role": "system", "content": SHORT_PROMPT}, {"role": "user", "content": user}]
        schema = short_schema(sentence, self._most_enum_chars)
        reply = self._generator.complete_scored(messages, _MAX_TOKENS, deadline, schema, TOP_TOKENS)
        try:
            span = str(json.loads(reply.text)["answer"]).strip()
        except (json.JSONDecodeError, KeyError, TypeError):
            log.warning("the model's short answer is not the JSON asked for: %r", reply.text[:200])
            return None
        if not span:
            return None
        copied = copied_from(span, sentence, question)
        return Copy(copied, copy_confidence(reply.places, sentence, copied)) if copied is not None and adds_to(question, copied) else None


def copy_confidence(places: Sequence[tuple[str, dict[str, float]]], sentence: str, span: str) -> float:
    """How sure the model was of the words it copied: its probability, at the first token of the reply's answer value
    (after `"answer": "`), of beginning the copy with one of the span's words or one of the few words before it in the
    sentence (so that "glaciologist Matthias Huss" against "Matthias Huss" is no doubt: both name him; "MOS" and
    "MOSCOW" are one word). 1.0 when the server tells no probabilities there."""
    reply = "".join(token for token, _ in places)
    named = reply.find('"answer"')
    opening = reply.find('"', reply.find(":", named) + 1) if named >= 0 else -1  # the value's opening quote
    end = 0
    for token, likeliest in places:
        start, end = end, end + len(token)
        if opening < 0 or end <= opening + 1 or (start <= opening and not token.strip('" ')):
            continue  # no value yet: the keys, or the opening quote alone
        if not likeliest:
            return 1.0
        nearby = _words_leading_to(sentence, span)
        begun = [(alternative.strip('" ').lower(), logprob) for alternative, logprob in likeliest.items()]
        return min(1.0, sum(math.exp(logprob) for text, logprob in begun if text and any(word.startswith(text) for word in nearby)))
    return 1.0


def _words_leading_to(sentence: str, span: str) -> set[str]:
    """The span's words and the _LEAD_WORDS words before it in the sentence, lower case, edge punctuation stripped."""
    words = [word.strip(_EDGES).lower() for word in one_line(sentence).split()]
    wanted = [word.strip(_EDGES).lower() for word in span.split()]
    start = next((i for i in range(len(words)) if words[i : i + len(wanted)] == wanted), None)
    nearby = set(words[max(0, start - _LEAD_WORDS) : start + len(wanted)]) if start is not None else set(wanted)
    return nearby - {""}


def short_schema(sentence: str, most_chars: int | None = None) -> dict[str, object]:
    """The reply's schema: one of the sentence's runs of words (or nothing), so that the model copies, word for word,
    instead of writing the answer its own way ("1977-1981" for "from 1977 to 1981")."""
    return reply_schema(answer={"type": "string", "enum": ["", *spans_of(sentence, most_chars)]})


def spans_of(text: str, most_chars: int | None = None) -> list[str]:
    """Every run of up to _MOST_WORDS words of `text`, its edge punctuation stripped, each once; runs of fewer words
    for a text so long that there would be more than _MOST_SPANS, or, past _LONG_ENUM of them, more than `most_chars`
    characters in all."""
    words = one_line(text).split()
    sizes: dict[str, int] = {}  # each run, in the order met, and the fewest words it is made of
    for start in range(len(words)):
        for end in range(start + 1, min(len(words), start + _MOST_WORDS) + 1):
            if run := " ".join(words[start:end]).strip(_EDGES):
                sizes[run] = min(sizes.get(run, end - start), end - start)
    for most in range(_MOST_WORDS, 0, -1):
        found = [run for run, size in sizes.items() if size <= most]
        too_long = most_chars is not None and len(found) > _LONG_ENUM and sum(map(len, found)) > most_chars
        if len(found) <= _MOST_SPANS and not too_long:
            break
    return found[:_MOST_SPANS]
