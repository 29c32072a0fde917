"""What a message asks, as people write it: the question inside a lead-in ("Today is June 16, 2022. Which airline…?"),
the context before it ("Police arrested 31 men this week. Where was the event?"), and the day it is asked on."""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

_MONTHS = {
    name: number
    for number, names in enumerate(
        ("jan january", "feb february", "mar march", "apr april", "may", "jun june", "jul july", "aug august",
         "sep sept september", "oct october", "nov november", "dec december"),
        start=1,
    )
    for name in names.split()
}
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DATES = (
    re.compile(rf"\b{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<year>(?:19|20)\d\d)\b", re.I),
    re.compile(rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}\s*,?\s+(?P<year>(?:19|20)\d\d)\b", re.I),
    re.compile(r"\b(?P<year>(?:19|20)\d\d)-(?P<month>\d\d)-(?P<day>\d\d)\b"),
)
# Sentence ends: . ! ? then a space, except after an initial ("U.S.") or an abbreviation ("Jan.", "Dr.").
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st mt no vs etc inc ltd co corp gen gov sen rep jr sr jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
_END = re.compile(r"(?<=[.!?])[\"”’)]*\s+(?!\()")
_QUESTION_START = re.compile(
    r"^\s*(?:and\s+|so\s+|but\s+|also\s+|now\s+)?(?:who|whom|whose|what|when|where|which|why|how|is|are|was|were|do|does|did|"
    r"has|have|had|will|would|can|could|should|tell|name|list|give|in which|on which|at which|for which|from which|by how)\b",
    re.I,
)
# A sentence that only says what day it is ("Today is Thursday, June 16, 2022.", "It's 2022-06-16.") adds nothing to
# search for once its date is read.
_DAY_STATEMENT = re.compile(
    r"^\s*(?:(?:today|the date|the current date|current date|it|now|this)\s*(?:is|['’]s|:)|as of|date\s*:|on)\b", re.I
)
_WEEKDAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
# "this week", "recently": when something happened relative to the asker, which no article words that way.
_RELATIVE_TIME = re.compile(
    rf"\s*,?\s*\b(?:this|last|past|earlier this|later this)\s+(?:week|weekend|month|year|summer|spring|autumn|winter|fall)\b|"
    rf"\s*,?\s*\b(?:recently|lately|just now|so far this year|in recent (?:days|weeks|months)|"
    rf"in the (?:past|last) (?:few )?(?:days|weeks|months)|(?<!\bthe )(?<!\bof )today|yesterday|on {_WEEKDAY})\b",
    re.I,
)
# "this year's winner": the time word says which one, and reads as "the winner" without it.
_RELATIVE_POSSESSIVE = re.compile(r"\s*\b(?:this|last|past)\s+(?:week|weekend|month|year|season)['’]s\b", re.I)

# A word not at a sentence's start (a name there is capitalized as any word is), and any word of a question.
_INNER_WORD = re.compile(r"(?<![.!?\"“]\s)(?<=\s)([A-Za-z][\w&'’-]*\w)")
_WORD = re.compile(r"[A-Za-z][\w&'’-]*\w|[A-Za-z]")


@dataclass(frozen=True)
class AskedQuestion:
    """A message read as a question: the question itself, the context before it and the day it is asked on."""

    ask: str  # the question itself, without relative time words ("this week")
    context: str = ""  # sentences before the question that say what it is about (a lead-in's date left out)
    asked_on: date | None = None

    @property
    def search_text(self) -> str:
        """What to search the articles for: the context and the question."""
        return f"{self.context} {self.ask}".strip()


def read_question(text: str) -> AskedQuestion:
    """The question a message asks, the context it gives, and a date it states ("Today is June 16, 2022.")."""
    sentences = split_sentences(text)
    asked_on = next((d for d in map(stated_date, sentences) if d), None)
    at = _asking_sentence(sentences)
    context = [s for i, s in enumerate(sentences) if i != at and not _only_a_date(s)]
    ask = _without_relative_time(sentences[at]) if sentences else text
    return AskedQuestion(ask=ask or text, context=" ".join(context), asked_on=asked_on)


def split_sentences(text: str) -> list[str]:
    """The message's sentences (a full stop after an initial or a common abbreviation ends none). Not the articles'
    splitter (`rag.chunk.split_sentences`, Punkt): trained on prose, it keeps "16 June 2022. Who won?" and "…-16. who
    won" whole and cuts a carried "(NCIC export venture)" off its question."""
    sentences: list[str] = []
    start = 0
    for match in _END.finditer(text):
        before = text[start : match.start()].rstrip("\"”’)")
        last_word = re.search(r"([A-Za-z]+)\.$", before)
        if last_word and (len(last_word.group(1)) == 1 or last_word.group(1).lower() in _ABBREVIATIONS):
            continue
        sentences.append(text[start : match.start()].strip())
        start = match.end()
    sentences.append(text[start:].strip())
    return [s for s in sentences if s]


def stated_date(sentence: str) -> date | None:
    """A calendar date written in the sentence ("June 16, 2022", "16 June 2022", "2022-06-16"), if any."""
    for pattern in _DATES:
        match = pattern.search(sentence)
        if match:
            month = match["month"]
            number = int(month) if month.isdigit() else _MONTHS[month.lower().rstrip(".")]
            try:
                return date(int(match["year"]), number, int(match["day"]))
            except ValueError:
                continue
    return None


def _asking_sentence(sentences: list[str]) -> int:
    """Which sentence asks: the last with a question mark, else the last worded as a question, else the last."""
    for test in (lambda s: "?" in s, lambda s: bool(_QUESTION_START.match(s))):
        found = [i for i, s in enumerate(sentences) if test(s) and not _only_a_date(s)]
        if found:
            return found[-1]
    return max(len(sentences) - 1, 0)


def _only_a_date(sentence: str) -> bool:
    """Whether a sentence just says what day it is."""
    return stated_date(sentence) is not None and bool(_DAY_STATEMENT.match(sentence)) and "?" not in sentence


def _without_relative_time(question: str) -> str:
    """The question without "this week", "recently" and the like (kept when nothing else would be left); "this year's
    winner" becomes "the winner"."""
    stripped = " ".join(_RELATIVE_TIME.sub("", _RELATIVE_POSSESSIVE.sub(" the", question)).split())
    stripped = re.sub(r"\s+([?.!,])", r"\1", stripped)
    return stripped if len(stripped.split()) >= 2 else question


def restore_case(question: str, texts: Sequence[str]) -> str:
    """A question typed all in lower case with its names written as the articles write them ("what stake will ncic
    hold" -> "… NCIC …"): a word the texts only ever capitalize, past a sentence's first word, is a name."""
    if any(ch.isupper() for ch in question):  # written with capitals: its lower-case words are not names
        return question
    forms: dict[str, set[str]] = {}
    for text in texts:
        for match in _INNER_WORD.finditer(text):
            forms.setdefault(match.group(1).lower(), set()).add(match.group(1))
    def written(match: re.Match[str]) -> str:
        word = match.group()
        seen = forms.get(word.lower(), set())
        return next(iter(seen)) if len(seen) == 1 and not next(iter(seen)).islower() else word
    restored = _WORD.sub(written, question)
    return restored[:1].upper() + restored[1:]
