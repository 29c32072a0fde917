"""Answer matching that forgives surface differences: case, punctuation, per cent, separators, number words."""

import re

_NUMBER_WORDS = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
    "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "fifteen": "15", "twenty": "20",
    "thirty": "30", "forty": "40", "fifty": "50", "hundred": "100",
}


def normalize(text: str) -> str:
    """Lower case, one spelling of percent, no thousands separators, digits for number words, no punctuation."""
    text = text.lower().replace("’", "'").replace("‘", "'")
    text = re.sub(r"\bper\s*cent\b|%", " percent ", text)
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
    text = re.sub(r"(?<=\d)\s*(m|mn)\b", " million", text)
    text = re.sub(r"(?<=\d)\s*(bn|b)\b", " billion", text)
    text = re.sub(r"(?<=\d)(?=[a-z£$€])|(?<=[£$€])(?=\d)", " ", text)
    words = [_NUMBER_WORDS.get(w, w) for w in re.findall(r"[\w.]+|[£$€]", text)]
    return " ".join(w.strip(".") for w in words if w.strip("."))


def contains(text: str, alias: str) -> bool:
    """Whether `alias` occurs in `text` on word boundaries, after normalization."""
    needle = normalize(alias)
    if not needle:
        return False
    return re.search(rf"(?<![\w.]){re.escape(needle)}(?![\w])", normalize(text)) is not None
