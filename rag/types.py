"""Values that flow between the stages; all frozen."""

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

Span = tuple[int, int]


@dataclass(frozen=True)
class Article:
    """One cleaned news article, ready to chunk."""

    id: str
    title: str
    text: str
    url: str | None = None
    published: date | None = None
    source: str | None = None


@dataclass(frozen=True)
class Chunk:
    """A run of whole sentences of one article; offsets index the article's text."""

    document_id: str
    index: int
    text: str
    start: int
    end: int
    sentences: tuple[Span, ...]

    @property
    def id(self) -> str:
        return f"{self.document_id}:{self.index}"

    def sentence(self, index: int) -> str:
        """The text of the chunk's `index`-th sentence."""
        start, end = self.sentences[index]
        return self.text[start - self.start : end - self.start]

    def sentence_texts(self) -> list[str]:
        """The texts of all the chunk's sentences, in order."""
        return [self.sentence(i) for i in range(len(self.sentences))]


@dataclass(frozen=True)
class DocumentInfo:
    """What the store knows of one article."""

    id: str
    title: str
    url: str | None
    published: date | None
    source: str | None
    chunks: int
    content_hash: str


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its article's metadata and retrieval scores."""

    chunk: Chunk
    document: DocumentInfo
    score: float
    dense_score: float
    keyword_score: float
    sentence_scores: tuple[float, ...] = ()


@dataclass(frozen=True)
class Filters:
    """Optional restrictions on which articles retrieval may return."""

    document_ids: tuple[str, ...] = ()
    source: str | None = None
    published_from: date | None = None
    published_to: date | None = None


@dataclass(frozen=True)
class Citation:
    """One cited passage and the exact sentence span (article offsets) the answer rests on."""

    n: int
    document_id: str
    chunk_id: str
    title: str
    url: str | None
    published: date | None
    source: str | None
    text: str
    start: int
    end: int
    quote: str
    score: float


@dataclass(frozen=True)
class Verification:
    """How an answer's sentences fared against their citations."""

    sentences: int
    supported: int
    repaired: int
    fallback: bool


@dataclass(frozen=True)
class Answer:
    """A short answer with its citations, or a refusal; `degraded` when the LLM failed and extraction stood in."""

    answer: str
    refused: bool
    citations: tuple[Citation, ...]
    timings_ms: dict[str, float] = field(default_factory=dict)
    answerer: str = "extractive"
    verification: Verification | None = None
    degraded: bool = False
    question: str = ""
    unanswered: tuple[str, ...] = ()  # parts of a two-part question the articles do not answer (the rest is answered)
    short: str | None = None  # the fewest words of the cited sentence that answer ("60 per cent"), when found


@dataclass(frozen=True)
class StreamEvent:
    """One step of a streamed answer: the retrieved passages, a piece of text, then the final verified answer."""

    kind: Literal["passages", "delta", "final"]
    text: str = ""
    passages: tuple[Passage, ...] = ()
    answer: Answer | None = None


IngestStatus = Literal["created", "updated", "unchanged"]


@dataclass(frozen=True)
class IngestResult:
    """What ingesting one article did."""

    id: str
    title: str
    status: IngestStatus
    chunks: int


@dataclass(frozen=True)
class IngestFailure:
    """An article or file that could not be ingested, and why."""

    source: str
    reason: str
