"""Text hygiene for articles: Unicode normalization, invisible characters, and news boilerplate."""

import re
import unicodedata

_KEEP_CONTROLS = {"\n", "\t"}
_APPEAL = re.compile(
    r"\b(your (support|donation|contribution)|donate( now| today)?$|paywalls?|subscribe (now|today|to our)|"
    r"sign up (for|to) our|our newsletter|support (us|our journalism|independent journalism)|"
    r"become a (member|subscriber)|help us (to )?(tell|keep|continue))\b",
    re.IGNORECASE,
)
_AD_MARKER = re.compile(
    r"^\s*(advertisement|advertising|sponsored( content)?|ad|t&cs apply|promoted|"
    r"story continues below( advertisement)?|continue reading below)\s*$",
    re.IGNORECASE,
)
_IMAGE_MARKER = re.compile(
    r"^\s*(open image in gallery|view image in fullscreen|image:?|photo:?|enlarge this image|"
    r"!\[[^\]]*\]\([^)]*\)|\[image[^\]]*\])\s*$",
    re.IGNORECASE,
)
_SHARE_LINE = re.compile(
    r"^\s*(share( this( article| story)?)?( on \w+)?|follow us( on \w+)?|read more|click here.*|"
    r"related:?.*|recommended:?|most read|sign up.*|copy link|comments?|print)\s*$",
    re.IGNORECASE,
)
# Who wrote or edited the story, on a line of its own: "By Maria Lind", "By Jane Doe and Raj Patel, CNN",
# "Reporting by Ana Ribeiro; Editing by Tom Hale". It names the newsroom's staff, never what the story reports. A byline's
# words are capitalized names or name joiners, so "By exporting EVs from China, Nissan hopes…" and "By Sunday, …" stay.
_NAME_WORD = r"(?:[A-Z][\w.'’-]*|and|&|de|da|van|von|del|la|le|bin|al)"
_BYLINE = re.compile(
    rf"^\s*(?:(?i:by)\s+[A-Z][\w.'’-]*(?:,?\s+{_NAME_WORD}){{0,7}}|"
    rf"(?i:(?:additional\s+)?reporting|writing|editing|compiled)\s+(?i:by)\s+[A-Za-z][^.!?]{{0,200}})\s*$"
)
_TRAILING_READ_MORE = re.compile(r"(?<=[.!?”\"])\s*Read more\s*$")
# A wire story's dateline opening its lead: "NEW YORK, June 18 (NewsWire) - ", "LONDON (Reuters) - ", "CNN — ",
# "NewsWire — ". It says where and when the story was filed, not who did what.
_DATELINE = re.compile(
    r"^\s*(?:[A-Z][A-Z'’.-]+(?:\s+[A-Z][A-Z'’.-]+)*(?:,[^-—–\n]{1,50}?)?(?:\s*\([^)\n]{1,30}\))?\s*(?:--?|[—–])|[A-Z]\w+\s*[—–])\s+"
)
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")


def normalize_unicode(text: str) -> str:
    """NFC-normalize and drop control, format (zero-width, bidi, tag) and unpaired surrogate characters."""
    text = text.encode("utf-8", "surrogatepass").decode("utf-8", "ignore") if _has_surrogates(text) else text
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    kept = [
        ch
        for ch in unicodedata.normalize("NFC", text)
        if ch in _KEEP_CONTROLS or unicodedata.category(ch) not in {"Cc", "Cf", "Cs", "Co", "Cn"}
    ]
    return "".join(kept)


def _has_surrogates(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def clean_article_text(text: str) -> str:
    """Normalize an article's plain text and drop lines no answer should ever cite (ads, appeals, captions)."""
    lines = [_SPACES.sub(" ", line).strip() for line in normalize_unicode(text).split("\n")]
    lines = [_TRAILING_READ_MORE.sub("", line) for line in lines]
    drop = _boilerplate_lines(lines)
    kept = [line for i, line in enumerate(lines) if i not in drop]
    body = "\n".join(kept)
    return re.sub(r"\n{3,}", "\n\n", body).strip()


def _boilerplate_lines(lines: list[str]) -> set[int]:
    drop: set[int] = set()
    drop |= _appeal_blocks(lines)
    counts: dict[str, int] = {}
    for line in lines:
        if line:
            counts[line] = counts.get(line, 0) + 1
    for i, line in enumerate(lines):
        if not line:
            continue
        if _AD_MARKER.match(line) or _IMAGE_MARKER.match(line) or _SHARE_LINE.match(line) or _BYLINE.match(line):
            drop.add(i)
        elif counts[line] > 1 and len(line.split()) <= 12:
            drop.add(i)  # repeated short lines are ad or navigation furniture, never reporting
    for i, line in enumerate(lines):
        if _AD_MARKER.match(line):
            drop |= _short_lines_above(lines, i)
        if _IMAGE_MARKER.match(line) and i + 1 < len(lines) and _looks_like_caption(lines[i + 1]):
            drop.add(i + 1)
    return drop


def _short_lines_above(lines: list[str], marker: int) -> set[int]:
    """The run of short lines (an ad's copy) right above an advertisement marker."""
    found: set[int] = set()
    i = marker - 1
    while i >= 0 and lines[i] and len(lines[i].split()) <= 8 and not lines[i].endswith(("”", '"')):
        found.add(i)
        i -= 1
    return found


def _looks_like_caption(line: str) -> bool:
    return bool(line) and (bool(re.search(r"\(\(?[^()]*\)?\)\s*$", line)) or len(line.split()) <= 25)


def _appeal_blocks(lines: list[str]) -> set[int]:
    """A fund-raising or subscription appeal at the top or bottom of the article."""
    nonblank = [i for i, line in enumerate(lines) if line]
    if not nonblank:
        return set()
    drop: set[int] = set()
    head = nonblank[:8]
    hits = [i for i in head if _APPEAL.search(lines[i])]
    if len(hits) >= 2:
        last = hits[-1]
        drop |= {i for i in nonblank if i <= last}
    tail = nonblank[-5:]
    hits = [i for i in tail if _APPEAL.search(lines[i])]
    if len(hits) >= 2:
        drop |= {i for i in nonblank if i >= hits[0]}
    return drop


_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?![.\d]*[1-9])", re.I)


def drop_hidden_html(html: str) -> str:
    """The page without what a reader never sees (CSS-hidden, `hidden`, `aria-hidden` elements): text planted there
    for a machine (instructions to a model) must not become part of the article."""
    from lxml import html as lxml_html

    try:
        tree = lxml_html.fromstring(html)
    except (ValueError, lxml_html.etree.ParserError):
        return html
    hidden = tree.xpath('//*[@hidden or @aria-hidden="true" or @style]')
    for element in hidden:
        style = element.get("style") or ""
        if element.get("hidden") is not None or element.get("aria-hidden") == "true" or _HIDDEN_STYLE.search(style):
            parent = element.getparent()
            if parent is not None:
                element.drop_tree()
    return lxml_html.tostring(tree, encoding="unicode")


def dateline(sentence: str) -> str:
    """The dateline a wire story's lead opens with ("HONG KONG, Jan 29 (NewsWire) - "), or ""."""
    match = _DATELINE.match(sentence)
    return match.group() if match else ""
