"""The HTTP contract: request and response bodies of /v1/ask and /v1/documents."""

from datetime import date
from typing import Literal

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from rag.pipeline import DocumentView
from rag.types import Answer, Citation, DocumentInfo, Filters, IngestResult, Passage


def _valid_unicode(value: str) -> str:
    """JSON can carry lone surrogates (\ud800) that no encoder downstream accepts: refuse them here."""
    if any("\ud800" <= ch <= "\udfff" for ch in value):
        raise ValueError("the text holds a lone surrogate (invalid Unicode)")
    return value


Text = Annotated[str, AfterValidator(_valid_unicode)]


class FiltersIn(BaseModel):
    """Restrict retrieval to some articles."""

    model_config = ConfigDict(extra="forbid")

    document_ids: list[Text] = Field(default_factory=list, max_length=1000)
    source: Text | None = Field(None, max_length=300)
    published_from: date | None = None
    published_to: date | None = None

    def to_filters(self) -> Filters:
        return Filters(tuple(self.document_ids), self.source, self.published_from, self.published_to)


class AskRequest(BaseModel):
    """A question about the stored articles."""

    model_config = ConfigDict(extra="forbid")

    question: Text = Field(..., description="The question, in plain words.", examples=["What stake will NCIC hold in the export venture?"])
    top_k: int | None = Field(None, ge=1, le=50, description="Passages to retrieve (default from settings).")
    filters: FiltersIn | None = None
    stream: bool = Field(
        False, description="Answer as server-sent events: `passages`, `delta`..., then `final` (also with Accept: text/event-stream)."
    )


class PassageOut(BaseModel):
    """A retrieved passage, as streamed before the answer (numbered in retrieval order)."""

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
    score: float

    @classmethod
    def of_passage(cls, n: int, passage: Passage) -> "PassageOut":
        document, chunk = passage.document, passage.chunk
        return cls(
            n=n, document_id=document.id, chunk_id=chunk.id, title=document.title, url=document.url,
            published=document.published, source=document.source, text=chunk.text.strip(),
            start=chunk.start, end=chunk.end, score=round(passage.score, 6),
        )


class CitationOut(PassageOut):
    """A cited passage; `start`/`end` are the supporting sentence's offsets in the article's text, `quote` that sentence."""

    quote: str

    @classmethod
    def of(cls, citation: Citation) -> "CitationOut":
        return cls(**citation.__dict__)


class VerificationOut(BaseModel):
    """How the answer's sentences fared against their citations (`fallback`: none survived, extraction answered)."""

    sentences: int
    supported: int
    repaired: int
    fallback: bool


class AskResponse(BaseModel):
    """A short answer with `[n]` markers and its citations, or `refused: true` when the articles don't say."""

    answer: str
    refused: bool
    citations: list[CitationOut]
    timings_ms: dict[str, float]
    answerer: str = Field(description="Who wrote the answer: `extractive`, `local:<model>` or `openai:<model>`.")
    verification: VerificationOut | None = None
    degraded: bool = Field(False, description="The LLM failed and the extractive answerer stood in.")
    question: str = Field("", description="The question answered (cleaned; for a conversation, made standalone).")
    short_answer: str | None = Field(
        None,
        description="The fewest words of the first cited sentence that answer (\"Alaska Airlines\", \"60 per cent\"), copied "
        "from it exactly; null when refused or when none was found (the answer's sentence still answers).",
    )
    unanswered: list[str] = Field(
        default_factory=list,
        description="For a question asking two things of which the articles answer one: the part they do not answer "
        "(the answer says so, and its citations cover the rest).",
    )

    @classmethod
    def of(cls, answer: Answer) -> "AskResponse":
        check = answer.verification
        return cls(
            answer=answer.answer,
            refused=answer.refused,
            citations=[CitationOut.of(c) for c in answer.citations],
            timings_ms=answer.timings_ms,
            answerer=answer.answerer,
            verification=VerificationOut(**check.__dict__) if check else None,
            degraded=answer.degraded,
            question=answer.question,
            short_answer=answer.short,
            unanswered=list(answer.unanswered),
        )


class ArticleIn(BaseModel):
    """An article sent as JSON."""

    model_config = ConfigDict(extra="forbid")

    title: Text = Field(..., max_length=1000)
    text: Text = Field(..., min_length=1)
    url: Text | None = Field(None, max_length=2000)
    published: Text | None = Field(None, max_length=64, description="YYYY-MM-DD (or an ISO date-time).")
    source: Text | None = Field(None, max_length=300)
    id: Text | None = Field(None, max_length=128)


class IngestOut(BaseModel):
    """What adding an article did."""

    id: str
    title: str
    status: Literal["created", "updated", "unchanged"]
    chunks: int

    @classmethod
    def of(cls, result: IngestResult) -> "IngestOut":
        return cls(id=result.id, title=result.title, status=result.status, chunks=result.chunks)


class FailureOut(BaseModel):
    """An article in an uploaded file that could not be added."""

    source: str
    reason: str


class UploadOut(IngestOut):
    """Adding a file: the first article's result, plus every article's when the file held several."""

    documents: list[IngestOut]
    failures: list[FailureOut]


class DocumentOut(BaseModel):
    """A stored article's metadata."""

    id: str
    title: str
    url: str | None
    published: date | None
    source: str | None
    chunks: int

    @classmethod
    def of(cls, info: DocumentInfo) -> "DocumentOut":
        return cls(id=info.id, title=info.title, url=info.url, published=info.published, source=info.source, chunks=info.chunks)


class DocumentList(BaseModel):
    """Every stored article."""

    documents: list[DocumentOut]


class ChunkOut(BaseModel):
    """One chunk of an article and its sentence spans (article offsets)."""

    id: str
    start: int
    end: int
    sentences: list[tuple[int, int]]


class DocumentDetail(DocumentOut):
    """A stored article with its full cleaned text; citation offsets index `text`."""

    text: str
    chunk_spans: list[ChunkOut]

    @classmethod
    def of_view(cls, view: DocumentView) -> "DocumentDetail":
        base = DocumentOut.of(view.info).model_dump()
        spans = [ChunkOut(id=s.chunk.id, start=s.chunk.start, end=s.chunk.end, sentences=list(s.chunk.sentences)) for s in view.chunks]
        return cls(**base, text=view.text, chunk_spans=spans)


class Deleted(BaseModel):
    """What a delete removed."""

    id: str
    deleted_chunks: int


class Health(BaseModel):
    """Whether the service can answer."""

    status: Literal["ok", "error"]
    chunks: int | None = None
    embedder: str | None = None
    detail: str | None = None


class ErrorBody(BaseModel):
    """Every error response: what went wrong and what to do."""

    error: str
    detail: str | list[dict[str, object]] | None = None
