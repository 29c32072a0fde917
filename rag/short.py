"""Short answers: a model copies, out of the sentences an answer cites, the fewest words that answer the question
("Alaska Airlines", "60 per cent"); kept only when copied from them and saying more than the question. The cited
sentence stays the answer; the short answer is given beside it, and an answer none can be copied from is no answer
(rag/check.py)."""

import json
import logging
import re

from rag.generate import Deadline, LanguageModel, Message, one_line, reply_schema
from rag.question import asks_yes_or_no
from rag.reader import adds_to, copied_from

log = logging.getLogger("rag.short")

SHORT_SCHEMA = reply_schema(answer={"type": "string"})
SHORT_PROMPT = (
    "You answer questions about news from one sentence. The user sends one sentence from a news article and a "
    'question. Reply with JSON {"answer": "..."} where answer is the shortest words of the sentence that answer '
    "the question (a name, a number with its unit, a place, a date, or a short phrase), copied exactly. "
    'If the sentence does not answer it, reply {"answer": ""}.\n\n'
    "Example.\nSentence: Acme Corp said on Monday it would buy Beta Ltd for $2 billion.\n"
    'Question: How much will Acme pay for Beta?\nReply: {"answer": "$2 billion"}'
)
_MAX_TOKENS = 40

_WORD = re.compile(r"[^\s\-–—]+")  # words, a hyphen or dash parting them ("10-year", "19-km")
_EDGES = " .,;:!?()[]\"'“”‘’"
_NUMBERS = {
    word: str(n)
    for n, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
        "seventeen eighteen nineteen twenty".split()
    )
} | {"thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "seventy": "70", "eighty": "80", "ninety": "90"}


class ShortAnswers:
    """The model copying short answers; `applies` says which questions have one to copy (not a yes-or-no question)."""

    def __init__(self, generator: LanguageModel) -> None:
        self._generator = generator

    @staticmethod
    def applies(question: str) -> bool:
        return not asks_yes_or_no(question)

    def copied(self, sentence: str, question: str, deadline: Deadline) -> str | None:
        """The words of `sentence` answering `question`, as the sentence writes them, or None when the model copies
        nothing that holds up (words the sentence does not hold, or only the question's own words). The sentence has
        passed the answerer's gates already; the asked kind is not held against the span ("What were the wind speeds
        when Otis made landfall?" asks no date), which lost 3 of 196 right short answers on three eval sets and
        caught none."""
        user = f"Sentence: {one_line(sentence)}\nQuestion: {one_line(question)}"
        messages: list[Message] = [{"role": "system", "content": SHORT_PROMPT}, {"role": "user", "content": user}]
        reply = self._generator.complete(messages, _MAX_TOKENS, deadline, SHORT_SCHEMA)
        try:
            span = str(json.loads(reply)["answer"]).strip()
        except (json.JSONDecodeError, KeyError, TypeError):
            log.warning("the model's short answer is not the JSON asked for: %r", reply[:200])
            return None
        if not span:
            return None
        copied = copied_from(span, sentence, question) or _written_otherwise(span, sentence) or _within_words(span, sentence)
        return copied if copied is not None and adds_to(question, copied) else None


def _written_otherwise(span: str, sentence: str) -> str | None:
    """The sentence's words saying the span as news writes it otherwise: a number in words or figures ("5" / "five"),
    a percentage as a sign or in words ("40%" / "40 per cent"), words joined by a hyphen or not ("10 years" /
    "10-year"); or None."""
    wanted = [key for key, _ in _keyed(span)]
    said = _keyed(sentence)
    keys = [key for key, _ in said]
    for start in range(len(keys) - len(wanted) + 1) if wanted else ():
        if keys[start : start + len(wanted)] == wanted:
            first, last = said[start][1], said[start + len(wanted) - 1][1]
            return sentence[first.start() : last.end()].strip(_EDGES)
    return None


def _keyed(text: str) -> list[tuple[str, re.Match[str]]]:
    """Each word's comparable form with the word it comes from: lower case, figures for number words, "percent" for
    "%" and "per cent", no plural "s"."""
    keyed: list[tuple[str, re.Match[str]]] = []
    words = list(_WORD.finditer(text))
    for i, word in enumerate(words):
        core = word.group().strip(_EDGES).lower()
        if core == "per" and i + 1 < len(words) and words[i + 1].group().strip(_EDGES).lower() == "cent":
            continue  # "per cent" is keyed at its "cent"
        if core.endswith("%") and len(core) > 1:
            keyed += [(core[:-1], word), ("percent", word)]
            continue
        core = "percent" if core == "cent" and i and words[i - 1].group().strip(_EDGES).lower() == "per" else core
        core = _NUMBERS.get(core, core)
        if len(core) > 3 and core.endswith("s") and not core.endswith("ss"):
            core = core[:-1]
        if core:
            keyed.append((core, word))
    return keyed


def _within_words(span: str, sentence: str) -> str | None:
    """The sentence's whole words holding the span when the span is found only inside them ("$500,000" of
    "NZ$500,000", "10,000" of "C$10,000"), or None; never inside a number ("4" is not in "2024")."""
    wanted = span.strip(" .,;:")
    at = sentence.lower().find(wanted.lower())
    end = at + len(wanted)
    if at < 0 or not wanted or (at > 0 and sentence[at - 1].isdigit()) or (end < len(sentence) and sentence[end].isdigit()):
        return None
    start = at
    while start > 0 and not sentence[start - 1].isspace():
        start -= 1
    while end < len(sentence) and not sentence[end].isspace():
        end += 1
    return sentence[start:end].strip(_EDGES)
