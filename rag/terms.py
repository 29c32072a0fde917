"""Words to index terms: lower case, numbers without separators, English stems, no stop words."""

import re
import unicodedata
from functools import lru_cache

STOP_WORDS = frozenset(
    """a an and are as at be been being but by can could did do does doing done for from had has have having he
    her hers him his how i if in into is it its itself me my no nor not of off on or our ours out over own she
    should so such than that the their theirs them then there these they this those through to too under until
    up very was we were what when where which while who whom whose why will with would you your yours about
    after again against all am any because before below between both during each few further here just more most
    once only other same some also says said say tell told according many much kind sort type thing things way
    ways reason exactly happen happened mention mentioned article articles per""".split()
)
_TOKEN = re.compile(
    r"\d+(?:[.,]\d+)*(?:%|(?:m|mn|bn|b|k|tn)\b)?(?![^\W_])|[^\W_]+(?:['’][^\W\d_]+)?", re.UNICODE
)


# News tells what happened in the past tense, questions ask with "did" and the base form ("Why did volumes fall?"
# of "volumes fell"); a stemmer leaves irregular forms apart, so they are mapped to their base first.
_IRREGULAR_VERBS = """
    arise arose arisen|become became|begin began begun|bear bore borne|beat beaten|bid|break broke broken|
    bring brought|build built|buy bought|catch caught|choose chose chosen|come came|cost|cut|deal dealt|
    draw drew drawn|drive drove driven|eat ate eaten|fall fell fallen|feel felt|fight fought|find found|flee fled|
    fly flew flown|forbid forbade forbidden|forecast|foresee foresaw foreseen|forget forgot forgotten|
    freeze froze frozen|get got gotten|give gave given|go went gone|grow grew grown|hang hung|hear heard|
    hide hid hidden|hit|hold held|hurt|keep kept|know knew known|lay laid|lead led|leave left|lend lent|lie lain|
    lose lost|make made|mean meant|meet met|overtake overtook overtaken|pay paid|put|quit|rise rose risen|
    run ran|see saw seen|seek sought|sell sold|send sent|set|shake shook shaken|shed|shoot shot|show shown|
    shrink shrank shrunk|shut|sink sank sunk|sit sat|slide slid|speak spoke spoken|spend spent|split|spread|
    stand stood|steal stole stolen|stick stuck|strike struck|swear swore sworn|swing swung|take took taken|
    teach taught|tear tore torn|think thought|throw threw thrown|understand understood|undertake undertook undertaken|
    wake woke woken|wear wore worn|win won|withdraw withdrew withdrawn|withhold withheld|write wrote written
"""
_BASE_FORMS = {form: forms.split()[0] for forms in _IRREGULAR_VERBS.split("|") for form in forms.split()[1:]}
_UNIT_SUFFIX = re.compile(r"(?P<number>\d+(?:[.,]\d+)*)(?P<unit>m|mn|bn|b|k|tn)")
_THOUSANDS = re.compile(r"\d{1,3}(,\d{3})+(\.\d+)?")
_UNITS = {"m": "million", "mn": "million", "bn": "billion", "b": "billion", "k": "thousand", "tn": "trillion"}


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    import Stemmer

    return Stemmer.Stemmer("english")


def fold_accents(text: str) -> str:
    """The text without diacritics ("Andújar" -> "Andujar"): people type names without them."""
    if text.isascii():
        return text
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    """Lower-cased word and number tokens; `10,000` becomes `10000`, `60%` becomes `60 percent`."""
    tokens: list[str] = []
    for raw in _TOKEN.findall(fold_accents(text.lower()).replace("per cent", "percent")):
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
    """Index terms of `text`: stems of its non-stop words (irregular verb forms as their base), and its numbers."""
    kept = [_BASE_FORMS.get(w, w) for w in words(text) if w not in STOP_WORDS]
    return tuple(_stemmer().stemWords(kept)) if kept else ()


# Questions and sentences recur across requests; whole chunks (indexed once) go through index_terms uncached.
terms = lru_cache(maxsize=65536)(index_terms)


def content_words(text: str) -> dict[str, str]:
    """Stem -> first surface word, for the alphabetic non-stop words of `text` (the vocabulary of synonyms)."""
    found: dict[str, str] = {}
    kept = [w for w in words(text) if w.isalpha() and len(w) > 2 and w not in STOP_WORDS]
    for word, stem in zip(kept, _stemmer().stemWords([_BASE_FORMS.get(w, w) for w in kept]) if kept else [], strict=True):
        found.setdefault(stem, word)
    return found
