"""Whether a sentence states the quantity a question asks for: a count of the asked thing, a sum of money, a span of
time or a length, a share."""

import re
from collections.abc import Collection

from rag.question import NUMBER_WORDS, QuestionShape
from rag.terms import terms, words
from rag.thesaurus import related

_LENGTHS = "km kilometres kilometers miles metres meters metre meter feet foot ft cm centimetres inches storeys stories floors"
_SPAN_WORDS = {
    "long": f"year years month months week weeks day days hour hours minute minutes decade decades long {_LENGTHS}",
    "old": "aged age old founded established born history opened built dating",
    "tall": f"tall high height {_LENGTHS}",
    "wide": f"wide width across {_LENGTHS}",
    "deep": f"deep depth {_LENGTHS}",
    "far": f"far away distance off {_LENGTHS}",
}
_CURRENCY_CODES = r"USD|EUR|GBP|JPY|CNY|RMB|CHF|SEK|NOK|DKK|INR|AUD|CAD|NZD|HKD|SGD|ZAR|BRL|MXN|PLN|KRW"
_CURRENCY_SIGNS = rf"[£$€¥₹₩₽₺₪]|\b(?:{_CURRENCY_CODES})\b"
_CURRENCY_WORDS = (
    r"pounds?|pence|sterling|euros?|dollars?|cents?|yen|yuan|renminbi|francs?|kronor|kroner|krona|krone|crowns?|rupees?|rand|"
    r"pesos?|reais|roubles?|rubles?|lira|shekels?|zloty|zlotys|forints?|baht|ringgit|dirhams?|riyals?|rials?|naira|shillings?|won"
)
_SCALE = r"(?:\s*(?:million|billion|trillion|thousand|bn|m|k)\b)?"
_MONEY = re.compile(
    rf"(?:{_CURRENCY_SIGNS})\s?\d(?:[\d,.]*\d)?{_SCALE}|\d(?:[\d,.]*\d)?{_SCALE}\s*(?:[A-Z][a-z]+\s+)?"
    rf"(?:{_CURRENCY_WORDS}|{_CURRENCY_CODES})\b"
)
# "a £310 million tidal barrier": a sum just before the thing it buys states that thing's cost.
_PRICED_DISTANCE = 3
_NUMBER_WORDS_SMALL = r"one|two|three|four|five|six|seven|eight|nine|ten"
# "one in three passengers", "two-thirds of members", "half of all staff": a share without a percent sign.
_RATIO = re.compile(
    rf"\b(?:{_NUMBER_WORDS_SMALL}|\d+)\s+(?:in|out of)\s+(?:{_NUMBER_WORDS_SMALL}|\d+)\b|"
    r"\b(?:a|one|two)[\s-]+(?:half|third|thirds|quarter|quarters|fifth|fifths)\b|\bhalf of\b|\bthree[\s-]quarters\b",
    re.I,
)
_PERCENT_MEASURES = frozenset({"stake", "share", "percentage", "proportion", "percent", "per cent", "rate"})
_NUMBER_WORD = re.compile(NUMBER_WORDS)
_COUNT_DISTANCE = 3  # words from the number to what it counts: "six water-bombing aircraft", "crowd of 4,100"
_NOT_PLURALS = frozenset("this thus plus less news series always perhaps sometimes towards afterwards besides whereas across various".split())


def measure_equivalents(measure: str | None) -> dict[str, float]:
    """Index terms that state the asked quantity in other words: a stake or share is given as a percentage."""
    if measure in _SPAN_WORDS:
        return dict.fromkeys(terms(_SPAN_WORDS[measure]), 1.0)
    return {"percent": 1.0} if measure in _PERCENT_MEASURES else {}


def states_measure(shape: QuestionShape, text: str, subject: Collection[str] = ()) -> bool:
    """Whether a text names the quantity a question asks for, or states it in other words (a word of its thesaurus
    group: "fans" are a "crowd"); what "how many" counts must stand by a number ("six water-bombing aircraft", "a
    crowd of 4,100"), not elsewhere in the sentence ("6,500 residents left their homes" counts no homes). A sum of money
    is stated only by a currency amount, and one just before a `subject` term names its cost ("a £310 million barrier")."""
    if shape.money and not states_money(text):
        return False
    if shape.measure is None:
        return True
    if shape.counted:
        return _counts(shape.measure, text)
    text_terms = set(terms(text))
    if any(t in text_terms for t in measure_equivalents(shape.measure)):
        return True
    if shape.measure in _PERCENT_MEASURES and _RATIO.search(text):
        return True
    if shape.money and _prices(text, subject):
        return True
    return all(t in text_terms or not text_terms.isdisjoint(related(t)) for t in terms(shape.measure))


def states_money(text: str) -> bool:
    """Whether a text states a sum in a currency: "£310m", "$4.5 billion", "9.6 billion Swedish kronor"."""
    return bool(_MONEY.search(text))


def same_figure_kind(premise: str, text: str) -> bool:
    """Whether a text states a figure of the kind a question's premise gives: a sum of money for "cost £3 billion", a
    percentage for "a 60% stake" (a premise's wrong sum is not corrected by a year or a count)."""
    if states_money(premise):
        return states_money(text)
    if "percent" in words(premise):  # the tokenizer writes "%" and "per cent" as "percent"
        return "percent" in words(text)
    return True


def _prices(text: str, subject: Collection[str]) -> bool:
    """Whether a sum of money stands just before one of the subject's terms ("£310 million tidal barrier")."""
    for match in _MONEY.finditer(text):
        following = words(text[match.end() :])[:_PRICED_DISTANCE]
        if any(not set(terms(word)).isdisjoint(subject) for word in following):
            return True
    return False


def _counts(noun: str, text: str) -> bool:
    """Whether a number in the text counts the noun (or a word of its thesaurus group) and not another plural."""
    wanted = {stem for t in terms(noun) for stem in (t, *related(t))}
    tokens = words(text)
    # "58% of patients" counts no patients: a share is not a count
    numbers = [i for i, token in enumerate(tokens) if (token[0].isdigit() or _NUMBER_WORD.fullmatch(token)) and tokens[i + 1 : i + 2] != ["percent"]]
    nouns = [i for i, token in enumerate(tokens) if not wanted.isdisjoint(terms(token))]
    return any(abs(i - j) <= _COUNT_DISTANCE and not _counts_another(tokens, i, j, wanted) for i in numbers for j in nouns)


def _counts_another(tokens: list[str], number: int, noun: int, wanted: set[str]) -> bool:
    """Whether the number counts another plural noun, one just after it or between it and ours: in "Patients at
    Moorfield's two main hospitals", two counts hospitals, not patients."""
    following = tokens[number + 1 : noun] if noun > number else tokens[number + 1 : number + 3]
    return any(_plural(token) and wanted.isdisjoint(terms(token)) for token in following)


def _plural(token: str) -> bool:
    return len(token) > 3 and token.isalpha() and token.endswith("s") and not token.endswith("ss") and token not in _NOT_PLURALS
