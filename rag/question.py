"""What a question asks for: the kind of answer it expects and the names it is about."""

import re
from functools import lru_cache
from dataclasses import dataclass
from enum import Enum

from rag.clean import dateline
from rag.names import NATIONALITIES
from rag.terms import STOP_WORDS, terms


class AnswerKind(Enum):
    """The shape of answer a question expects."""

    AMOUNT = "amount"  # "how many", "how much": a count or a sum, which a year does not give
    NUMBER = "number"
    DATE = "date"
    NAME = "name"
    PERSON = "person"
    PLACE = "place"
    ANY = "any"


_NUMBER_NOUNS = (
    r"stake|share|percentage|proportion|per ?cent|amount|price|cost|value|number|capital|figure|total|sum|"
    r"size|budget|revenue|profit|loss|rate|salary|fine|investment|valuation|population|age"
)
# "What stake…", "What is the port's annual profit?": the quantity asked for.
_MEASURE = re.compile(
    rf"\b(?:what|which)\s+(?:(?:is|was|are|were)\s+)?(?:(?:the|its|their|his|her)\s+)?(?:[\w’'-]+['’]s\s+)?(?:[\w-]+\s+)?({_NUMBER_NOUNS})\b",
    re.I,
)
# Words that only say a number is wanted ("What number of jobs…"), which any figure answers.
_GENERIC_MEASURES = frozenset({"number", "figure", "total", "sum", "amount", "size", "value"})
# The auxiliary verbs that follow a question's subject ("How many ships did…") and are no deed ("Who was…").
_AUXILIARIES = tuple("did do does were was are is will would have has had can could should may might must".split())
# "How many children…": what is counted, which the answering sentence must name (or a word of its thesaurus group):
# the noun just before the verb ("How many migraine days did…" counts days), else the plural of the next two words
# or the first word; units of time are left out ("How many years…" is answered by "since 2010").
_YES_OR_NO = re.compile(rf"^\s*(?:{'|'.join(_AUXILIARIES)})\b", re.I)
_COUNTED = re.compile(
    r"\b(?:how many|what number of)\s+((?:[a-z]+\s+){0,2}?[a-z]+)(?=\s+(?:" + "|".join(_AUXILIARIES) + r")\b)"
    r"|\b(?:how many|what number of)\s+([a-z]+(?:\s+[a-z]+)?)\b",
    re.I,
)
_UNCOUNTED = frozenset({"times", "years", "months", "weeks", "days", "hours", "minutes", "seconds", "more", "of", "in", "are", "were", "is", "was", "do", "does", "did", "will", "have", "has"})
# "How much will the stand cost?", "How much did it raise?": the quantity is the verb's (a cost, a sum raised). Not
# "pay" or "spend": a price paid is told as "sold to X for 12 million", "bought … for", which name no payment.
_HOW_MUCH_VERB = re.compile(
    r"\bhow much\b(?:\s+[\w’'-]+){0,6}?\s+(cost|costs|charge|charges|charged|earn|earns|earned|"
    r"raise|raises|raised|invest|invests|invested|lose|loses|lost|owe|owes|owed|borrow|borrows|borrowed)\b",
    re.I,
)
# "How long…" is answered by a span of time or a distance, "How old…" by an age or a founding date, "How tall…" and
# "How far…" by a length ("six steel gates" tells how many, not how tall); "how far did shares fall" asks a figure.
_HOW_SPAN = re.compile(r"\bhow (long|old|tall|wide|deep|far)\b", re.I)
# Index stems of movement (the stemmer takes "fell", "rose", "went" to their base): after these "how far" asks a figure.
_MOVES = frozenset(terms("rise fall drop climb grow shrink decline go"))
# "How much will the barrier cost?", "What is the ticket price?": a sum of money, which a currency states (and "the
# rate stays at 4.25%, borrowing costs" does not). Not "lose", "raise", "fine", "sales": ice, rates, a share of turnover.
_ASKS_MONEY = re.compile(
    r"\bhow much\b(?:\s+[\w’'-]+){0,6}?\s+(?:cost|costs|charge|charges|charged|earn|earns|earned|invest|invests|invested|"
    r"owe|owes|owed|borrow|borrows|borrowed|pay|pays|paid|spend|spends|spent)\b|\bhow much (?:\w+\s+)?(?:money|cash|funding)\b",
    re.I,
)
_AFTER_HEAD = frozenset("of for to in at on per paid did does do is was are were will would has have had be".split() + [""])
_MONEY_MEASURES = frozenset({"price", "cost", "salary", "budget", "investment", "valuation"})
_KIND_PATTERNS: tuple[tuple[AnswerKind, re.Pattern[str]], ...] = (
    (AnswerKind.AMOUNT, re.compile(r"\bhow (many|much)\b", re.I)),
    (AnswerKind.NUMBER, re.compile(rf"\bhow (big|large|long|far|old|tall|high)\b|\b(what|which)\s+(\w+\s+)?({_NUMBER_NOUNS})\b", re.I)),
    (AnswerKind.DATE, re.compile(r"\bwhen\b|\b(what|which) (year|month|day|date|time)\b|\bsince when\b", re.I)),
    (AnswerKind.PERSON, re.compile(r"^\s*(who|whom|whose)\b", re.I)),
    (AnswerKind.NAME, re.compile(r"\b(what|which) (is|was|are|were) the names? of\b", re.I)),
    (AnswerKind.NAME, re.compile(r"\b(which|what) (compan(y|ies)|firms?|persons?|people|brands?|carmakers?|car makers?|automakers?|groups?|organi[sz]ations?|partners?|teams?|part(y|ies)|ministers?|officials?|universit(y|ies)|colleges?|schools?|agenc(y|ies)|banks?|clubs?|institutes?|unions?|councils?|courts?|newspapers?|airlines?|regulators?|charit(y|ies)|retailers?|manufacturers?|insurers?|lenders?|investors?|funds?)\b", re.I)),
    (AnswerKind.PLACE, re.compile(r"^\s*where\b|\b(which|what) (countr(y|ies)|cit(y|ies)|region|province|state|town|place|plant|factor(y|ies)|market|river|lake|sea|island|"
                          r"street|road|county|district|village|airport|stadium|venue)s?\b", re.I)),
)
# "What kind of car is…": the noun whose narrower kind the answer names ("a mid-size sedan"), seldom beside it.
_KINDS_OF = r"(?i:kinds?|types?|sorts?)\s+of"
_KIND_OF = re.compile(rf"\b(?:what|which)\s+{_KINDS_OF}\s+([a-z]+)\b", re.I)
# "What is the venture focused on?", "When was the Leaf launched?": the question ends on a participle, the event
# asked about. The sentence telling of that event, not another about the same subject, answers it.
_IRREGULAR_PARTICIPLES = (
    "sold built made held paid won run led cut bought brought found kept left lost sent spent shut set hit put told "
    "taught born done owned seen known shown grown drawn thrown flown chosen given taken written driven begun broken "
    "spoken stolen frozen hidden fallen beaten forgotten risen struck hurt met meant shot split spread sworn worn torn"
).split()
_PARTICIPLE_END = re.compile(
    rf"\b(?:is|are|was|were|be|been|being)\b.*?\s(?<!\bthe\s)(?<!\ban\s)(?<!\ba\s)"
    rf"([a-z]{{2,}}(?<!e)ed|[a-z]{{3,}}ing|{'|'.join(_IRREGULAR_PARTICIPLES)})"
    r"(?:\s+(?:on|in|at|by|for|to|with|from|of|as|about|into|over|after|under|up|down|out|off))?\s*\?*\s*$"
)
# "Who chairs Harlow Town?", "Who first spotted the marks?": what the person asked for did; "Who is the museum's
# director?": the role asked for. The sentence saying it, not another about the museum, answers.
_WHO_DID = re.compile(r"^\s*(?i:who)\s+(?:(?i:first|now|currently|later|then)\s+)?([a-z]+)\b")
_WHO_IS = re.compile(
    r"^\s*(?i:who)\s+(?:is|was|are|were|will be)\s+(?:the|its|their)\s+(?:[\w’'-]+['’]s\s+)?(?:(?:new|current|former|next)\s+)?([a-z]+)\b"
)
# "Who was appointed to liquidate…", "Which bank was chosen…": the participle after who/which-noun and a form of "be".
_ASKED_PASSIVE = re.compile(
    rf"^\s*(?i:who|(?:which|what)\s+[a-z]+)\s+(?:is|was|are|were|has been|have been|had been|will be)\s+([a-z]{{2,}}(?<!e)ed|{'|'.join(_IRREGULAR_PARTICIPLES)})\b"
)
# "Which company did Nvidia overtake…", "Whose record did Gukesh break?": the verb after the named subject of did/does.
_ASKED_DEED = re.compile(
    r"^\s*(?i:who|whom|whose|which|what)\b[^?]*?\b(?i:did|does|do)\s+(?:the\s+)?(?:[A-Z][\w'’.&-]*\s+)+(?!(?:say|tell|report|claim|think|expect)\b)([a-z]{3,})\b"
)
# "What kind of car is the Nissan N7?", "Who is Oliver Grant?": a question asking what a named thing is.
_DEFINITION = re.compile(
    rf"^\s*(?i:what|who)\s+(?:{_KINDS_OF}\s+[\w-]+\s+)?(?i:is|was|are|were)\s+(?:the\s+)?"
    r"((?:[A-Z0-9][\w’'&.-]*\s*)+?)\s*\?*\s*$"
)
_QUESTION_WORDS = {"what", "who", "whom", "whose", "when", "where", "which", "why", "how", "is", "are", "does", "do", "did", "can", "will", "was", "were", "has", "have", "tell", "and", "but", "so", "i"}
_NAME = re.compile(r"(?<![\w’'])[A-Z][\w’'&.-]*[\w]|(?<![\w’'])[A-Z](?![\w])")
NUMBER_WORDS = r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|thousand|million|billion|trillion|dozen|half|quarter"
_HAS_NUMBER = re.compile(rf"(?<![^\W\d_])\d|\b({NUMBER_WORDS})\b", re.I)
_YEAR = re.compile(r"(?<![\d,.£$€])\b(1[89]\d\d|20\d\d)\b(?!\s*%|[\d,.]\d)")
_MONTHS = r"january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
_HAS_DATE = re.compile(
    rf"\b(1[89]\d\d|20\d\d)\b|\b({_MONTHS})\b|\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|today|tomorrow)\b|"
    r"\b(last|next|this|later this|earlier this) (year|month|week|quarter|spring|summer|autumn|fall|winter)\b|\b(end of the year|years? ago|decades? ago)\b|"
    r"\b(AD|BC|BCE|CE)\s?\d{1,4}\b|\b\d{1,4}\s?(AD|BC|BCE|CE)\b|\bcentur(y|ies)\b",
    re.I,
)


_CALENDAR = re.compile(rf"{_MONTHS}|(monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?")
# Nationality and regional adjectives: capitalized, but they say where from, not who or which.
_DEMONYMS = frozenset(NATIONALITIES)
_ACRONYM = re.compile(r"\b[A-Z]{2,5}s?\b")
_CALLED = re.compile(r"\b(called|named|known as|dubbed|titled)\s+\S", re.I)
_ASKS_REASON = re.compile(r"^\s*why\b|\b(what|which) (caused|led to|prompted|drove)\b|\breasons? (for|behind)\b", re.I)
_GIVES_REASON = re.compile(
    r"\b(because|due to|owing to|as a result|thanks to|blam(e|ed|es|ing)|citing|cited|driven by|caused by|led to|"
    r"result of|reasons?|in order to|so as to|to avoid|so that|amid|causes?)\b|,\s+as\s+(?!well\b|part\b|of\b|much\b|many\b)",
    re.I,
)
# A capitalized word right after these is a place (or a date), not who did something.
_AFTER_PLACE_WORD = re.compile(
    r"\b(?:(?:in|near|across|outside|inside|throughout|around)\s+(?:the\s+)?|(?:village|town|city|county|region|district|province|island|port)\s+of\s+)"
    r"(?:[A-Z][\w’'-]*\s*)+"
)
_PLACE_LOOSE = re.compile(r"\b(next door|nearby|abroad|overseas|locally|here|there)\b")


@dataclass(frozen=True)
class QuestionShape:
    """The expected kind of answer and the proper names the question mentions."""

    kind: AnswerKind
    names: tuple[str, ...]
    measure: str | None = None
    counted: bool = False  # the measure is what "how many" counts: the answer's number must count it
    kind_of: tuple[str, ...] = ()  # the terms of "car" in "What kind of car…", which the answer need not say
    predicate: str | None = None  # the event or role asked about: "launch" (…launched?), "chair" (Who chairs…?)
    defined: str | None = None  # the name whose nature the question asks ("Nissan N7" in "What kind of car is…")
    money: bool = False  # a sum of money is asked: only a sentence stating one in a currency answers
    acronyms: tuple[str, ...] = ()  # the names written in capitals ("etfs" of "ETFs"), which an article may spell out


@lru_cache(maxsize=4096)  # the answerer's ranking, gates and checks each ask a question's shape: made once
def shape_of(question: str) -> QuestionShape:
    """Classify a question and pick out its names (capitalized words past the first, and acronyms) and the
    quantity it asks for, if named ("profit" in "What is the port's annual profit?")."""
    measure = _MEASURE.search(question)
    kind = next((kind for kind, pattern in _KIND_PATTERNS if pattern.search(question)), AnswerKind.ANY)
    if measure and kind is AnswerKind.ANY:
        kind = AnswerKind.NUMBER
    asked = measure.group(1).lower() if measure else None
    counted = False
    if asked is None or asked in _GENERIC_MEASURES:
        asked, counted = _asked_quantity(question)
    if asked in _GENERIC_MEASURES:
        asked, counted = None, False
    kind_of = _KIND_OF.search(question)
    money = bool(_ASKS_MONEY.search(question)) or (asked in _MONEY_MEASURES and bool(measure) and _heads(question, measure.end(1)))
    return QuestionShape(
        kind, names_in(question), asked, counted, terms(kind_of.group(1)) if kind_of else (), _predicate(question), _defined(question), money,
        tuple(match.group().lower() for match in _ACRONYM.finditer(question)),
    )


def _heads(question: str, end: int) -> bool:
    """Whether the measure noun ending here heads its phrase ("the ticket price?", "the price of") rather than
    qualifying a next noun ("the retail price inflation figure")."""
    following = question[end:].split()
    return not following or following[0].lower().strip("?,.") in _AFTER_HEAD


def _defined(question: str) -> str | None:
    match = _DEFINITION.match(question)
    return match.group(1).strip() if match else None


def defines(name: str, sentence: str) -> bool:
    """Whether a sentence says what the named thing is: "the Nissan N7, a mid-size sedan", "Grant is a former…",
    "the finance director, Oliver Grant"."""
    quoted = re.escape(name)
    return bool(
        re.search(rf"\b{quoted}(?:['’]s)?(?:,|\s+(?:is|was|are|were))\s+(?:a|an|the|its|their)\b", sentence, re.I)
        or re.search(rf"\b(?:a|an|the|its|their)\s+[^,.;]{{1,60}},\s+{quoted}\b", sentence, re.I)
    )


def _predicate(question: str) -> str | None:
    """The term of the event or role the question asks about, if its shape shows one."""
    did = _WHO_DID.match(question)
    match = (
        _PARTICIPLE_END.search(question)
        or (did if did and did.group(1) not in _AUXILIARIES else None)
        or _WHO_IS.match(question)
        or _ASKED_PASSIVE.match(question)
        or _ASKED_DEED.search(question)
    )
    found = terms(match.group(1)) if match else ()
    return found[0] if found else None


def _asked_quantity(question: str) -> tuple[str | None, bool]:
    """What a "how many"/"how much"/"how long" question counts or measures when it names no quantity noun, and
    whether it is a count."""
    counted = _COUNTED.search(question)
    if counted:
        if counted.group(1):
            noun = counted.group(1).lower().split(" of ")[0].split()[-1]  # "reports of overheating": reports
        else:  # no auxiliary verb: "how many committee members voted" counts members, "how many people took part" people
            first_two = counted.group(2).lower().split()
            plurals = [w for w in first_two if w.endswith("s") and not w.endswith("ss")]
            noun = plurals[-1] if plurals else first_two[0]
        return (None, False) if noun in _UNCOUNTED else (noun, True)
    verb = _HOW_MUCH_VERB.search(question)
    if verb:
        return verb.group(1).lower(), False
    span = _HOW_SPAN.search(question)
    if span is None or not _MOVES.isdisjoint(terms(question[span.end() :])):
        return None, False
    return span.group(1).lower(), False


def asks_yes_or_no(question: str) -> bool:
    """Whether the question opens with an auxiliary verb ("Would Nissan build cars for a Chinese car maker in
    Sunderland?"): its answer, yes or no, is in no sentence's words."""
    return _YES_OR_NO.match(question) is not None


def asks_reason(question: str) -> bool:
    """Whether a question asks why something happened."""
    return bool(_ASKS_REASON.search(question))


def gives_reason(sentence: str) -> bool:
    """Whether a sentence states a cause or purpose ("blamed…", "due to…", "…, as lines diverted ships")."""
    return bool(_GIVES_REASON.search(sentence))


def _new_names(sentence: str, question_names: tuple[str, ...], article_names: frozenset[str]) -> list[str]:
    """The sentence's names the question does not give, months and weekdays aside; its first word is one when the
    article writes it capitalized past a sentence's start ("Mahomes, 28, was named…" of a story about "Patrick
    Mahomes")."""
    opening = re.match(r"\W*([\w’'.-]+)", sentence)
    first = _as_name(opening.group(1)) if opening else ""
    names = ((first,) if first in article_names else ()) + names_in(sentence)
    return [name for name in names if name not in question_names and not is_calendar_word(name)]


def _own_names(sentence: str, question_names: tuple[str, ...], article_names: frozenset[str]) -> list[str]:
    """The new names that can name who or which: "the Swedish retailer" names no one."""
    return [name for name in _new_names(sentence, question_names, article_names) if name not in _DEMONYMS]


def is_calendar_word(name: str) -> bool:
    """Whether a lower-case name is a month or a weekday."""
    return bool(_CALENDAR.fullmatch(name))


def names_as_written(text: str) -> list[str]:
    """The text's proper names as written ("Nissan's" -> "Nissan"), in order."""
    wanted = set(names_in(text))
    words = (re.sub(r"['’]s$", "", w) for w in re.findall(r"[\w’'-]+", text))
    return [w for w in words if w.lower() in wanted]


def names_in(text: str) -> tuple[str, ...]:
    """Capitalized words that are not the first word of a sentence, and acronyms, lower-cased, without 's."""
    names: list[str] = []
    for match in _NAME.finditer(text):
        word = match.group()
        before = text[: match.start()].rstrip()
        starts_sentence = not before or before[-1] in ".!?:\"“‘("
        lowered = _as_name(word)
        if lowered in _QUESTION_WORDS or lowered in STOP_WORDS:
            continue
        if starts_sentence and not word.isupper():
            continue
        for part in re.split(r"[-/]", lowered) if "-" in word or "/" in word else [lowered]:
            original = word[lowered.find(part)] if part and lowered.find(part) >= 0 else ""
            if part and original.isupper() and part not in names and part not in STOP_WORDS:
                names.append(part)
    return tuple(names)


def _as_name(word: str) -> str:
    """A capitalized word as the names gate reads it: lower case, without 's or a closing full stop ("U.S." -> u.s)."""
    return word.lower().replace("’", "'").removesuffix("'s").rstrip(".")


def fits_kind(sentence: str, kind: AnswerKind, question_names: tuple[str, ...], article_names: frozenset[str] = frozenset()) -> bool:
    """Whether a sentence holds the kind of fact the question asks for (`article_names`: the names its article writes
    past a sentence's start, which tell who or which a sentence opens with; a place seldom opens one)."""
    if kind is AnswerKind.NUMBER:
        return bool(_HAS_NUMBER.search(sentence))
    if kind is AnswerKind.AMOUNT:  # "How much is a ticket?" is not answered by "the last strike, in 2019"
        return bool(_HAS_NUMBER.search(_YEAR.sub(" ", sentence)))
    if kind is AnswerKind.DATE:
        return bool(_HAS_DATE.search(sentence))
    if kind is AnswerKind.PLACE:
        return bool(_PLACE_LOOSE.search(sentence)) or bool(_new_names(sentence, question_names, frozenset()))
    if kind in (AnswerKind.NAME, AnswerKind.PERSON):
        # A lead's dateline ("NEW YORK, June 18 (NewsWire) - ") names where the story was filed, not who or which.
        given = question_names + names_in(dateline(sentence))
        if kind is AnswerKind.NAME:  # "the drug, called velmitumab": a name may be written in lower case
            return bool(_own_names(sentence, given, article_names)) or bool(_CALLED.search(sentence))
        return bool(_own_names(_AFTER_PLACE_WORD.sub(" ", sentence), given, article_names))  # "Who founded it?" is not "founded in Leeds"
    return True
