"""Check each sentence a model wrote against the passages it cites.

A sentence is supported only when every number (with its unit), name and date it states occurs in its cited
passages, each number is bound there to the same subject (the nearest name in its clause), and its other words
are mostly the passages' words. "NCIC holds 40%" fails against "Dongfeng will hold 40 per cent, while NCIC ... the
remaining 60 per cent": 40's nearest name there is Dongfeng. Sentences cited wrongly (or not at all) but
supported by another shown passage are re-cited ("repaired"); the rest are dropped.
"""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from rag.chunk import split_sentences
from rag.prompt import Evidence
from rag.terms import STOP_WORDS, terms
from rag.thesaurus import related

# Letters then digits ("N7", "A320", "G7") make one name, not a word and a number.
_TOKEN = re.compile(r"[^\W\d_]+\d[^\W_]*(?:['’][^\W\d_]+)*|\d+(?:[.,]\d+)*%?|[^\W\d_]+(?:['’][^\W\d_]+)*")
_MARKERS = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_PASSAGE_MENTION = re.compile(
    r"\b(?:(?:according to|as (?:stated|said|mentioned|reported) in|based on|in)\s+)?(?:the\s+)?passages?\s+\[?(\d+(?:\s*(?:,|and)\s*\d+)*)\]?\s*,?\s*",
    re.I,
)
_CLAUSE_BREAK = re.compile(r"[,;:()]|\s[–—-]\s|\s(?:and|while|whereas|but|though|although)\s", re.I)
_MARKDOWN_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_MARKDOWN_LINK = re.compile(r"\[([^\]]*[^\]\d\s,;][^\]]*)\]\([^)]*\)")
_URL = re.compile(r"https?://\S+|www\.\S+|!\[", re.I)
_UNITS = {
    "%": "percent", "percent": "percent", "pc": "percent", "thousand": "thousand", "k": "thousand",
    "million": "million", "m": "million", "mn": "million", "billion": "billion", "bn": "billion",
    "trillion": "trillion", "tn": "trillion",
}
_NUMBER_WORDS = {
    w: str(i)
    for i, w in enumerate(
        "zero _ two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
        "seventeen eighteen nineteen twenty".split()
    )
    if w != "_"
} | {"thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "seventy": "70", "eighty": "80", "ninety": "90"}
_DATE_WORDS = frozenset(
    "january february march april may june july august september october november december monday tuesday "
    "wednesday thursday friday saturday sunday".split()
)
_OPENERS = frozenset("yes no overall however meanwhile additionally also therefore thus both passage passages".split())
MIN_WORD_COVERAGE = 0.5
# Light verbs a model uses to rephrase ("got 10,000 orders" for "achieved 10,000 orders"): no claim of their own.
_LIGHT_VERBS = frozenset(
    "get gets got getting gotten make makes made take takes took taken give gives gave given go goes went gone "
    "come comes came hold holds held have has had put puts keep keeps kept become becomes became".split()
)


@dataclass(frozen=True)
class Token:
    """A word or number of a sentence; numbers carry their normalized value and unit."""

    index: int
    text: str
    clause: int
    number: tuple[str, str] | None
    name: bool

    @property
    def lower(self) -> str:
        return self.text.lower().replace("’", "'").removesuffix("'s")


@dataclass(frozen=True)
class Sentence:
    """A sentence tokenized for checking: its tokens and its name groups (runs of capitalized words)."""

    text: str
    tokens: tuple[Token, ...]
    groups: tuple[tuple[int, frozenset[str]], ...]
    dates: frozenset[str]

    def numbers(self) -> list[Token]:
        return [t for t in self.tokens if t.number]

    def subject_of(self, token: Token, whole_sentence: bool) -> frozenset[str] | None:
        """The name nearest a number: the closest before it in its clause, else after it; else in the sentence."""
        clause = [(i, g) for i, g in self.groups if self.tokens[i].clause == token.clause]
        for pool in (clause, list(self.groups) if whole_sentence else []):
            before = [g for i, g in pool if i < token.index]
            if before:
                return before[-1]
            after = [g for i, g in pool if i > token.index]
            if after:
                return after[0]
        return None


@dataclass(frozen=True)
class Claim:
    """One sentence of a model's answer, without its markers, and the passage numbers it cites."""

    text: str
    cites: tuple[int, ...]


SupportStatus = Literal["supported", "repaired", "unsupported"]


@dataclass(frozen=True)
class CheckedClaim:
    """A claim, whether its citations hold it up, and the (evidence, sentence index) pairs that do."""

    claim: Claim
    status: SupportStatus
    support: tuple[tuple[Evidence, int], ...]


def split_claims(text: str) -> list[Claim]:
    """The answer's sentences and their [n] markers (a marker run opening a sentence belongs to the one before)."""
    claims: list[Claim] = []
    text = _MARKDOWN_LINK.sub(r"\1", _MARKDOWN_IMAGE.sub("", text)).strip()
    for start, end in split_sentences(text):
        piece = text[start:end]
        leading = re.match(r"(?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])+", piece)
        if leading and claims:
            claims[-1] = Claim(claims[-1].text, claims[-1].cites + _numbers_in_markers(leading.group()))
            piece = piece[leading.end() :]
        cites = _numbers_in_markers(piece) + tuple(
            int(n) for group in _PASSAGE_MENTION.findall(piece) for n in re.findall(r"\d+", group)
        )
        body = " ".join(_PASSAGE_MENTION.sub("", _MARKERS.sub("", piece)).split())
        body = re.sub(r"\s+([.,;:!?])", r"\1", re.sub(r"\s*\(\s*\)", "", body))
        body = body[:1].upper() + body[1:]
        if re.search(r"\w", body):
            claims.append(Claim(body, cites))
    return claims


def check_claims(
    claims: Sequence[Claim], evidence: Sequence[Evidence], knows: Callable[[str], bool], question: str = ""
) -> list[CheckedClaim]:
    """Each claim checked against its cited passages, then against every other shown passage.

    `knows(word)`: whether the corpus uses a word (a sentence's unknown first word is taken for a name);
    words the claim repeats from the question need no support of their own.
    """
    asked = set(terms(question))
    by_number = {item.n: item for item in evidence}
    proper = _proper_words(evidence)
    checked = []
    for claim in claims:
        sentence = _parse(claim.text, proper, knows)
        cited = [by_number[n] for n in dict.fromkeys(claim.cites) if n in by_number]
        support = _support(sentence, cited, proper, asked) if cited else None
        if support:
            checked.append(CheckedClaim(claim, "supported", support))
            continue
        others = [item for item in evidence if item not in cited]
        repaired = next((s for s in (_support(sentence, [item], proper, asked) for item in others) if s), None)
        checked.append(CheckedClaim(claim, "repaired", repaired) if repaired else CheckedClaim(claim, "unsupported", ()))
    return checked


def _support(
    claim: Sentence, cited: Sequence[Evidence], proper: set[str], asked: set[str]
) -> tuple[tuple[Evidence, int], ...] | None:
    """The cited sentences that hold the claim up, or None when the claim says something they do not."""
    if _URL.search(claim.text) and not all(m in " ".join(e.text for e in cited) for m in _URL.findall(claim.text)):
        return None
    sentences = [(item, i, _parse(_sentence_text(item, i), proper, None)) for item in cited for i in item.sentences]
    context = " ".join(s.text for _, _, s in sentences).lower()
    context_words = set(_TOKEN.findall(context.replace("’", "'")))
    context_words |= {w.removesuffix("'s") for w in context_words}
    if not claim.dates <= context_words or any(not words <= context_words for _, words in claim.groups):
        return None
    used: dict[tuple[int, int], tuple[Evidence, int]] = {}
    for token in claim.numbers():
        subject = claim.subject_of(token, whole_sentence=True)
        holder = next(
            (
                (item, i)
                for item, i, sentence in sentences
                for other in sentence.numbers()
                if _same_number(token.number, other.number) and _bound(sentence, other, subject, _earlier(sentences, item, i))
            ),
            None,
        )
        if holder is None:
            return None
        used[(holder[0].n, holder[1])] = holder
    claim_terms = _content_terms(claim)
    context_terms = set(terms(context))
    # A word the claim repeats from the question is the question's subject ("velmitumab" in "How much will velmitumab
    # cost?"): the passages must name it, in its words or its thesaurus group's ("cut jobs" / "reduce its workforce"),
    # or a figure about something else is being pinned on it. The claim's other words need only mostly be there.
    repeated = claim_terms & asked
    if any(t not in context_terms and context_terms.isdisjoint(related(t)) for t in repeated):
        return None
    new_terms = claim_terms - asked
    if len(new_terms & context_terms) < MIN_WORD_COVERAGE * len(new_terms):
        return None
    if not used:
        names = frozenset().union(*(group for _, group in claim.groups)) | claim.dates

        def overlap(sentence: Sentence) -> int:
            return len(claim_terms & set(terms(sentence.text))) + len(names & {t.lower for t in sentence.tokens})

        best = max(sentences, key=lambda s: overlap(s[2]), default=None)
        if best is None or overlap(best[2]) == 0:
            return None
        used[(best[0].n, best[1])] = (best[0], best[1])
    return tuple(used.values())


def _bound(sentence: Sentence, number: Token, subject: frozenset[str] | None, earlier: Sequence[Sentence]) -> bool:
    """Whether a number in an evidence sentence belongs to the claim's subject (or the claim names none).

    Its owner is the nearest name in its clause; a clause without one ("the company will cut 20,000 jobs")
    belongs to a name elsewhere in the sentence, else to the last name the passage mentioned before it.
    """
    if subject is None:
        return True
    owner = sentence.subject_of(number, whole_sentence=False)
    if owner is not None:
        return bool(owner & subject)
    if any(group & subject for _, group in sentence.groups):
        return True
    for previous in reversed(earlier):
        if previous.groups:
            return bool(previous.groups[-1][1] & subject)
    return False


def _earlier(sentences: list[tuple[Evidence, int, Sentence]], item: Evidence, index: int) -> list[Sentence]:
    return [s for e, i, s in sentences if e is item and i < index]


def _parse(text: str, proper: set[str], knows: Callable[[str], bool] | None) -> Sentence:
    """Tokens with clauses, numbers and names; a sentence's first word is a name only if it is used as one."""
    tokens: list[Token] = []
    clause = 0
    last = 0
    matches = list(_TOKEN.finditer(text))
    for position, match in enumerate(matches):
        clause += len(_CLAUSE_BREAK.findall(text[last : match.start()] + " "))
        last = match.start()
        raw = match.group()
        number = _number(raw, matches[position + 1].group() if position + 1 < len(matches) else "", text[match.end() : match.end() + 9])
        lowered = raw.lower().replace("’", "'").removesuffix("'s")
        capital = raw[0].isupper() and lowered not in STOP_WORDS and lowered not in _OPENERS
        if capital and position == 0 and not raw.isupper():
            capital = lowered in proper or (knows is not None and not knows(lowered) and not lowered.isdigit())
        tokens.append(Token(position, raw, clause, number, capital and number is None))
    groups: list[tuple[int, frozenset[str]]] = []
    for token in tokens:
        if not token.name or token.lower in _DATE_WORDS:
            continue
        if groups and tokens[token.index - 1].name and tokens[token.index - 1].lower not in _DATE_WORDS and groups[-1][0] + len(groups[-1][1]) >= token.index:
            groups[-1] = (groups[-1][0], groups[-1][1] | {token.lower})
        else:
            groups.append((token.index, frozenset({token.lower})))
    dates = frozenset(t.lower for t in tokens if t.name and t.lower in _DATE_WORDS)
    return Sentence(text, tuple(tokens), tuple(groups), dates)


def _number(raw: str, following: str, after: str) -> tuple[str, str] | None:
    """(value, unit) of a number token ("60 per cent" and "60%" alike; "two" is 2), else None."""
    lowered = raw.lower()
    if lowered in _NUMBER_WORDS:
        value = _NUMBER_WORDS[lowered]
    elif raw[0].isdigit():
        value = raw.rstrip("%")
        if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", value):
            value = value.replace(",", "")
        value = value.replace(",", ".")
        if "." in value:
            value = value.rstrip("0").rstrip(".")
    else:
        return None
    if raw.endswith("%") or re.match(r"\s*per\s?cent", after, re.I):
        return value, "percent"
    return value, _UNITS.get(following.lower(), "") if following.lower() != "%" else "percent"


def _same_number(claimed: tuple[str, str] | None, found: tuple[str, str] | None) -> bool:
    """Same value, and the same unit unless the claim gives none."""
    if claimed is None or found is None:
        return False
    return claimed[0] == found[0] and (not claimed[1] or claimed[1] == found[1])


def _content_terms(sentence: Sentence) -> set[str]:
    """The claim's word stems other than its names, numbers and light verbs."""
    plain = " ".join(t.text for t in sentence.tokens if not t.name and not t.number and t.lower not in _LIGHT_VERBS)
    return {t for t in terms(plain) if not t[0].isdigit()}


def _sentence_text(item: Evidence, index: int) -> str:
    return item.passage.chunk.sentence(index)


def _proper_words(evidence: Sequence[Evidence]) -> set[str]:
    """Words the passages capitalize where no sentence starts: the names they use."""
    found = set()
    for item in evidence:
        for index in item.sentences:
            for match in list(_TOKEN.finditer(_sentence_text(item, index)))[1:]:
                word = match.group()
                if word[0].isupper():
                    found.add(word.lower().replace("’", "'").removesuffix("'s"))
    return found


def _numbers_in_markers(text: str) -> tuple[int, ...]:
    return tuple(int(n) for group in _MARKERS.findall(text) for n in re.split(r"\s*[,;]\s*", group))
