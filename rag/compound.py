"""Questions that ask two things at once ("Where are the N7 and the new Leaf built?"): their parts, and one answer
made of the parts' answers."""

import re
from collections.abc import Sequence
from dataclasses import replace

from rag.answer import NOT_SAID
from rag.question import names_as_written, names_in
from rag.terms import STOP_WORDS
from rag.types import Answer, Citation, Verification

_PREPOSITIONS = frozenset("in at on for from to with by of into across inside outside near within".split())
_DETERMINERS = frozenset("the a an its his her their our this that these those".split())
_QUESTION_STARTS = frozenset("what who whom whose when where which why how is are was were do does did has have had will would can could".split())
# "the venture between Nissan and Dongfeng" names one thing; so do "both … and" lists of one fact in some papers,
# but those split safely (each part is answered from the same sentence and the repeat is dropped).
_ONE_RELATION = re.compile(r"\b(between|among|amongst)\b[^?]*\band\b", re.IGNORECASE)
_MARKER = re.compile(r"\[(\d+)\]")
_CARRIED = re.compile(r"\s*\([^()]*\)$")  # the names a second question was given from the first (_with_names_of)
_WORD = re.compile(r"\S+")


def parts_of(question: str) -> tuple[str, ...]:
    """The standalone questions a question joining two things with one "and" asks (none when it asks one thing):
    "Which EV models is Nissan betting on in China and in the UK?" asks about China, and about the UK;
    "Who leads Nissan and what did he say?" asks two questions."""
    body = question.strip().rstrip("?").rstrip()
    if len(re.findall(r"\band\b", body, re.IGNORECASE)) != 1 or _ONE_RELATION.search(body) or "," in body:
        return ()
    words = [(m.group(), m.start(), m.end()) for m in _WORD.finditer(body)]
    at = next(i for i, (w, _, _) in enumerate(words) if w.lower() == "and")
    if at == 0 or at == len(words) - 1:
        return ()
    if words[at + 1][0].lower() in _QUESTION_STARTS:  # two questions in one: "Who leads Nissan and what did he say?"
        first, second = f"{body[: words[at][1]].rstrip()}?", f"{body[words[at + 1][1]].upper()}{body[words[at + 1][1] + 1 :]}?"
        return (first, _with_names_of(first, second))
    right_end = _right_conjunct_end(words, at + 1)
    left_start = _left_conjunct_start(words, at, words[at + 1][0].lower())
    if left_start is None:
        return ()
    left = body[words[left_start][1] : words[at - 1][2]]
    right = body[words[at + 1][1] : words[right_end][2]]
    before, after = body[: words[left_start][1]], body[words[right_end][2] :]
    return (f"{before}{left}{after}?", f"{before}{right}{after}?")


def _with_names_of(first: str, second: str) -> str:
    """The second question with the first one's names added when it names nothing ("What did he say?" after "Who
    leads Nissan?"): only names, as the first question's other words would be asked of the second's answer. One that
    names its own subject ("who is Voltra's chief executive?") stands alone."""
    carried = dict.fromkeys(names_as_written(first))
    if not carried or names_in(second):
        return second
    return f"{second} ({' '.join(carried)})"


def _right_conjunct_end(words: list[tuple[str, int, int]], start: int) -> int:
    """The last word of the phrase after "and": a leading preposition and determiner, then words up to a
    function word, or up to the end of a run of capitalized words."""
    at = start
    if words[at][0].lower() in _PREPOSITIONS:
        at += 1
    while at < len(words) - 1 and words[at][0].lower() in _DETERMINERS:
        at += 1
    end = at
    while end + 1 < len(words):
        following = words[end + 1][0]
        if following.lower() in STOP_WORDS or following.lower() in _PREPOSITIONS:
            break
        if words[end][0][0].isupper() and not following[0].isupper():
            break
        end += 1
    return end


def _left_conjunct_start(words: list[tuple[str, int, int]], at: int, right_first: str) -> int | None:
    """The first word of the phrase before "and", shaped like the phrase after it ("in China and in the UK",
    "the N7 and the new Leaf", "NCIC and Dongfeng")."""
    if right_first in _PREPOSITIONS or right_first in _DETERMINERS:
        for i in range(at - 1, 0, -1):
            if words[i][0].lower() == right_first:
                return i
        if right_first in _PREPOSITIONS:
            return None
    start = at - 1
    if words[start][0].lower() in STOP_WORDS:
        return None
    while start > 1 and words[start][0][0].isupper() and words[start - 1][0][0].isupper():
        start -= 1
    if start > 1 and words[start - 1][0].lower() in _DETERMINERS:
        start -= 1
    return start


def partly(question: str, parts: Sequence[str], answers: Sequence[Answer]) -> Answer:
    """The answers of the parts the articles answer, then a plain statement of each part they do not: no refusal of
    the whole when half of it is known."""
    answered = [a for a in answers if not a.refused]
    missing = tuple(_CARRIED.sub("", part) for part, a in zip(parts, answers, strict=True) if a.refused)
    joined = combined(question, answered)
    said = " ".join(f"{NOT_SAID} {_as_clause(part)}." for part in missing)
    return replace(joined, answer=f"{joined.answer} {said}", unanswered=missing, short=None)


def _as_clause(part: str) -> str:
    """ "Who runs Kestrel Buses?" -> "who runs Kestrel Buses" (its first word lower-cased unless a name)."""
    body = part.strip().rstrip("?").strip()
    first, _, rest = body.partition(" ")
    plain = first.lower() in _QUESTION_STARTS | _PREPOSITIONS | _DETERMINERS
    return f"{first.lower() if plain else first} {rest}".strip()


def combined(question: str, answers: Sequence[Answer]) -> Answer:
    """One answer made of each part's answer, its citations renumbered in order; a part whose every citation an
    earlier part already gave adds nothing and is left out."""
    texts: list[str] = []
    citations: list[Citation] = []
    numbers: dict[tuple[str, int, int], int] = {}
    for answer in answers:
        spans = [(c.document_id, c.start, c.end) for c in answer.citations]
        if spans and all(span in numbers for span in spans):
            continue
        renumber: dict[int, int] = {}
        for citation, span in zip(answer.citations, spans, strict=True):
            if span not in numbers:
                numbers[span] = len(citations) + 1
                citations.append(replace(citation, n=numbers[span]))
            renumber[citation.n] = numbers[span]
        texts.append(_MARKER.sub(lambda m: f"[{renumber.get(int(m.group(1)), int(m.group(1)))}]", answer.answer))
    checks = [a.verification for a in answers if a.verification]
    verification = Verification(
        sentences=sum(v.sentences for v in checks),
        supported=sum(v.supported for v in checks),
        repaired=sum(v.repaired for v in checks),
        fallback=any(v.fallback for v in checks),
    )
    first = answers[0]
    shorts = [a.short for a in answers]
    return replace(
        first,
        short="; ".join(dict.fromkeys(s for s in shorts if s)) if all(shorts) else None,
        answer=" ".join(texts),
        citations=tuple(citations),
        verification=verification,
        degraded=any(a.degraded for a in answers),
        question=question,
    )
