"""Words to index terms: lower case, numbers without separators, English stems, no stop words."""

import re
from functools import lru_cache

STOP_WORDS = frozenset(
    """a an and are as at be been being but by can could did do does doing done for from had has have having he
    her hers him his how i if in into is it its itself me my no nor not of off on or our ours out over own she
    should so such than that the their theirs them then there these they this those through to too under until
    up very was we were what when where which while who whom whose why will with would you your yours about
    after again against all am any because before below between both during each few further here just more most
    once only other same some also says said say tell told according many much kind sort type thing things way
    ways reason exactly happen happened mention mentioned article articles""".split()
)
_TOKEN = re.compile(
    r"\d+(?:[.,]\d+)*(?:%|(?:m|mn|bn|b|k|tn)\b)?(?![^\W_])|[^\W_]+(?:['’][^\W\d_]+)?", re.UNICODE
)


_UNIT_SUFFIX = re.compile(r"(?P<number>\d+(?:[.,]\d+)*)(?P<unit>m|mn|bn|b|k|tn)")
_THOUSANDS = re.compile(r"\d{1,3}(,\d{3})+(\.\d+)?")
_UNITS = {"m": "million", "mn": "million", "bn": "billion", "b": "billion", "k": "thousand", "tn": "trillion"}


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    import Stemmer

    return Stemmer.Stemmer("english")


def words(text: str) -> list[str]:
    """Lower-cased word and number tokens; `10,000` becomes `10000`, `60%` becomes `60 percent`."""
    tokens: list[str] = []
    for raw in _TOKEN.findall(text.lower().replace("per cent", "percent")):
        if not raw[0].isdigit():
            tokens.append(raw.replace("’", "'").removesuffix("'s") if "'" in raw or "’" in raw else raw)
        elif unit := _UNIT_SUFFIX.fullmatch(raw):
            tokens.extend([unit["number"].replace(",", ""), _UNITS[unit["unit"]]])
        else:
            number = raw.rstrip("%")
            if _THOUSANDS.fullmatch(number):
                number = number.replace(",", "")
            tokens.append(number)
            if raw.endswith("%"):
                tokens.append("percent")
    return tokens


def index_terms(text: str) -> tuple[str, ...]:
    """Index terms of `text`: stems of its non-stop words, and its numbers."""
    kept = [w for w in words(text) if w not in STOP_WORDS]
    return tuple(_stemmer().stemWords(kept)) if kept else ()


# Questions and sentences recur across requests; whole chunks (indexed once) go through index_terms uncached.
terms = lru_cache(maxsize=65536)(index_terms)


def content_words(text: str) -> dict[str, str]:
    """Stem -> first surface word, for the alphabetic non-stop words of `text` (the vocabulary of synonyms)."""
    found: dict[str, str] = {}
    kept = [w for w in words(text) if w.isalpha() and len(w) > 2 and w not in STOP_WORDS]
    for word, stem in zip(kept, _stemmer().stemWords(kept) if kept else [], strict=True):
        found.setdefault(stem, word)
    return found
