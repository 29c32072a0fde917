"""Load news articles from files, folders, uploads and JSON into clean `Article`s with stable ids."""

import hashlib
import io
import json
import re
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from rag.clean import clean_article_text, drop_hidden_html, normalize_unicode
from rag.errors import InvalidInput, PayloadTooLarge, UnsupportedFile
from rag.types import Article, IngestFailure

SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".jsonl", ".pdf")
_HEADER_KEYS = {"title", "source", "date", "published", "url", "id"}
_HEADER_LINE = re.compile(r"^(?P<key>[A-Za-z]+):\s*(?P<value>.*)$")
_ID_OK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_TRACKING_PARAMS = re.compile(r"^(utm_\w+|fbclid|gclid|mc_cid|mc_eid|ref|cmpid)$", re.IGNORECASE)
_DATE_FORMATS = ("%d %B %Y", "%d %b %Y", "%B %d, %Y", "%b %d, %Y", "%B %d %Y", "%Y/%m/%d", "%d/%m/%Y")


def make_article(
    *,
    text: str,
    title: str | None = None,
    url: str | None = None,
    published: str | date | None = None,
    source: str | None = None,
    id: str | None = None,
) -> Article:
    """Clean the fields of one article and give it its stable id; raise InvalidInput when no text remains."""
    body = clean_article_text(text)
    if not body:
        raise InvalidInput("the article has no text once advertising and boilerplate are removed")
    clean_title = _one_line(title) if title else ""
    if not clean_title:
        clean_title, body = _title_from_body(body)
    canonical = canonical_url(url) if url else None
    return Article(
        id=_article_id(id, canonical, clean_title, body),
        title=clean_title,
        text=body,
        url=canonical,
        published=parse_date(published) if published else None,
        source=_one_line(source) if source else None,
    )


def load_paths(paths: list[Path], max_bytes: int) -> Iterator[Article | IngestFailure]:
    """Every article in these files and folders (recursively), or why a file could not be read."""
    for path in paths:
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)
        elif path.exists():
            files = [path]
        else:
            yield IngestFailure(str(path), "no such file or folder")
            continue
        for file in files:
            if file.stat().st_size > max_bytes:
                yield IngestFailure(str(file), f"file is larger than the limit of {max_bytes} bytes")
                continue
            try:
                yield from parse_file(file.name, file.read_bytes())
            except InvalidInput as exc:
                yield IngestFailure(str(file), str(exc))


def parse_file(name: str, data: bytes) -> Iterator[Article | IngestFailure]:
    """Articles in one file's bytes, chosen by the file's suffix; raise InvalidInput for unusable files."""
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnsupportedFile(f"unsupported file type {suffix or '(none)'!r}: use one of {', '.join(SUPPORTED_SUFFIXES)}")
    if not data.strip():
        raise InvalidInput(f"{name} is empty")
    if suffix == ".pdf":
        yield _parse_pdf(name, data)
    elif suffix in (".html", ".htm"):
        yield _parse_html(name, _decode(name, data))
    elif suffix == ".jsonl":
        yield from _parse_jsonl(name, _decode(name, data))
    else:
        yield _parse_plain(name, _decode(name, data))


def check_size(data: bytes, max_bytes: int) -> None:
    """Raise PayloadTooLarge when an upload is over the limit."""
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"the file is {len(data)} bytes; the limit is {max_bytes}")


def canonical_url(url: str) -> str:
    """A URL without fragment, tracking parameters or trailing slash, with lower-case scheme and host."""
    url = normalize_unicode(url).strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise InvalidInput(f"url must be an absolute http(s) address, got {url[:100]!r}")
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if not _TRACKING_PARAMS.match(k)])
    path = parts.path.rstrip("/") or ""
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, query, ""))


def parse_date(value: str | date) -> date:
    """A publication date from ISO or common news formats; raise InvalidInput otherwise."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = value.strip()
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise InvalidInput(f"cannot read the date {text[:40]!r}: use YYYY-MM-DD")


def content_hash(article: Article) -> str:
    """A hash of everything stored about the article, so any change is an update."""
    fields = [article.title, article.text, article.url or "", str(article.published or ""), article.source or ""]
    return hashlib.sha256("\x1f".join(fields).encode("utf-8")).hexdigest()


def _article_id(given: str | None, url: str | None, title: str, text: str) -> str:
    if given:
        given = normalize_unicode(str(given)).strip()
        if _ID_OK.match(given):
            return given
        return "id-" + hashlib.sha256(given.encode("utf-8")).hexdigest()[:20]
    if url:
        return "url-" + hashlib.sha256(url.encode("utf-8")).hexdigest()[:20]
    normalized = " ".join(f"{title}\n{text}".lower().split())
    return "doc-" + hashlib.sha256(normalized.encode("utf-8")).hexdigest()[:20]


def _one_line(value: str) -> str:
    return " ".join(normalize_unicode(str(value)).split())[:300]


def _title_from_body(body: str) -> tuple[str, str]:
    """A short first line is the headline (taken out of the body); else the first sentence, shortened."""
    first, _, rest = body.partition("\n")
    if len(first) <= 150 and not first.rstrip().endswith((".", "!", "?", "”", '"')) and rest.strip():
        return first.strip(), rest.strip()
    sentence = re.split(r"(?<=[.!?])\s", first, maxsplit=1)[0]
    if len(sentence) > 120:
        sentence = sentence[:120].rsplit(" ", 1)[0] + "…"
    return sentence, body


def _decode(name: str, data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise UnsupportedFile(f"{name} looks binary (it contains NUL bytes), not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _parse_plain(name: str, text: str) -> Article:
    headers: dict[str, str] = {}
    lines = text.lstrip("\ufeff").split("\n")
    i = 0
    while i < len(lines) and (match := _HEADER_LINE.match(lines[i].strip())):
        if match["key"].lower() not in _HEADER_KEYS:
            break
        headers[match["key"].lower()] = match["value"].strip()
        i += 1
    body = "\n".join(lines[i:]) if headers else text
    published = headers.get("date") or headers.get("published")
    return make_article(
        text=body,
        title=headers.get("title"),
        url=headers.get("url"),
        published=_lenient_date(published),
        source=headers.get("source"),
        id=headers.get("id"),
    )


def _lenient_date(value: str | None) -> date | None:
    """Files are not rejected for a date we cannot read; the date is left out instead."""
    if not value:
        return None
    try:
        return parse_date(value)
    except InvalidInput:
        return None


def _parse_html(name: str, html: str) -> Article:
    import trafilatura

    doc = trafilatura.bare_extraction(drop_hidden_html(html), with_metadata=True, include_comments=False, include_tables=False)
    text = getattr(doc, "text", None) if doc is not None else None
    if not text:
        raise InvalidInput(f"{name}: no article text found in the HTML")
    url = getattr(doc, "url", None)
    return make_article(
        text=text,
        title=getattr(doc, "title", None),
        url=url if url and url.startswith(("http://", "https://")) else None,
        published=_lenient_date(getattr(doc, "date", None)),
        source=getattr(doc, "sitename", None) or getattr(doc, "hostname", None),
    )


def _parse_pdf(name: str, data: bytes) -> Article:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        text = "\n".join(page.extract_text() or "" for page in reader.pages)
        title = reader.metadata.title if reader.metadata else None
    except (PdfReadError, ValueError, KeyError, OSError) as exc:
        raise InvalidInput(f"{name}: not a readable PDF ({exc})") from exc
    if not text.strip():
        raise InvalidInput(f"{name}: the PDF has no extractable text (scanned images are not supported)")
    return make_article(text=text, title=title)


def _parse_jsonl(name: str, text: str) -> Iterator[Article | IngestFailure]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{name}:{number}"
        try:
            record = json.loads(line)
            if not isinstance(record, Mapping):
                raise InvalidInput("each line must be a JSON object")
            yield article_from_record(record)
        except json.JSONDecodeError as exc:
            yield IngestFailure(where, f"not valid JSON ({exc.msg})")
        except InvalidInput as exc:
            yield IngestFailure(where, str(exc))


def article_from_record(record: Mapping[str, Any]) -> Article:
    """An article from a JSON object with `text` or `body` and optional id, title, url, published/date, source."""
    text = record.get("text") or record.get("body")
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("the article needs a non-empty 'text' (or 'body') string")
    fields: dict[str, str | None] = {}
    for key in ("id", "title", "url", "source", "published", "date"):
        value = record.get(key)
        if value is not None and not isinstance(value, str | int):
            raise InvalidInput(f"'{key}' must be a string")
        fields[key] = str(value) if value is not None else None
    return make_article(
        text=text,
        title=fields["title"],
        url=fields["url"],
        published=fields["published"] or fields["date"],
        source=fields["source"],
        id=fields["id"],
    )
