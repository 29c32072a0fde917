"""build(settings) -> Pipeline: the one place that picks implementations and wires the stages together."""

import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any, Protocol
from pathlib import Path

import numpy as np

from rag.answer import ExtractiveAnswerer
from rag.asking import AskedQuestion, read_question, restore_case
from rag.chunk import chunk_article
from rag.clean import normalize_unicode
from rag.compound import combined, partly, parts_of
from rag.config import Settings
from rag.conversation import Turn
from rag.documents import content_hash, load_paths
from rag.embed import Embedder, build_embedder
from rag.errors import ConfigError, EmbeddingFailed, EmptyIndex, InvalidInput, NotFound, StoreError
from rag.generate import LanguageModel
from rag.generative import GenerationLimits, GenerativeAnswerer
from rag.check import CheckedAnswerer
from rag.reader import ReadingAnswerer, ReadingLimits
from rag.short import OPENAI_ENUM_CHARS, ShortAnswers
from rag.local_index import LocalIndex, SavedIndex, reading_saved_index
from rag.retrieve import Retriever
from rag.terms import terms
from rag.store import ChunkStore, DocumentWrite, StoredChunk, TermStore, open_persistent_client, open_server_client
from rag.vocabulary import Vocabulary
from rag.types import Answer, Article, Chunk, DocumentInfo, Filters, IngestFailure, IngestResult, Passage, StreamEvent

ProgressCallback = Callable[[int, int, str], None]
# Articles are embedded and written together up to about this much text: a store write costs ~7 ms whatever its
# size (measured: 2 chunks 17 ms, 40 chunks 41 ms), and a progress bar still moves every few seconds.
_BATCH_CHARS = 24_000
# "Today is <date>": the news of the month before it comes first.
_RECENT_DAYS = 31


class Answerer(Protocol):
    """Turns a question and its retrieved passages into a cited answer (extractive, or LLM-written and verified)."""

    name: str

    def answer(self, question: str, passages: list[Passage]) -> Answer: ...

    def stream(self, question: str, passages: list[Passage]) -> Iterator[StreamEvent]: ...

    def standalone(self, turns: Sequence[Turn]) -> str: ...


AnswererFactory = Callable[[ExtractiveAnswerer, Embedder, LocalIndex], Answerer]


@dataclass(frozen=True)
class DocumentView:
    """An article as stored: its metadata and full cleaned text (chunk texts joined back together)."""

    info: DocumentInfo
    text: str
    chunks: tuple[StoredChunk, ...]


class Pipeline:
    """Ingest, ask and manage documents over one corpus; safe to share between threads of one process."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        store: ChunkStore,
        vocabulary: Vocabulary,
        answerer: AnswererFactory | None = None,
        saved_index: Future[SavedIndex | None] | None = None,
    ) -> None:
        self.settings = settings
        self._embedder = embedder
        self._store = store
        self._vocabulary = vocabulary
        self._index = LocalIndex(store, index_path(settings), saved_index)
        self._retriever = Retriever(store, embedder, self._index, settings.candidates)
        self._extractive = ExtractiveAnswerer(
            self._index,
            synonyms=vocabulary.synonyms,
            min_similarity=settings.refusal_min_dense,
            min_coverage=settings.refusal_min_overlap,
            synonym_floor=settings.synonym_min_similarity,
        )
        self._make_answerer = answerer
        self._answerer: Answerer | None = None if answerer else self._extractive
        self._answerer_lock = threading.Lock()
        self._write_lock = threading.Lock()

    @property
    def extractive(self) -> ExtractiveAnswerer:
        """The extractive answerer (for calibrating its weights and gates; the LLM answerers' fallback)."""
        return self._extractive

    @property
    def answerer_name(self) -> str:
        """Who writes this pipeline's answers (loads the answerer)."""
        return self._answering().name

    def prepare(self, answerer: bool = True, wait_for_models: bool = False) -> None:
        """Load the keyword index (and the answerer, and the answer check's model: in the background unless
        `wait_for_models`) now, seconds on a large corpus or for a local model, rather than at the first question.
        Before an ingest, it lets every write update the index in place, so `close` saves an index that is current and
        the next start loads it instead of re-reading the store."""
        self._index.warm()
        if answerer:
            loaded = self._answering()
            if isinstance(loaded, CheckedAnswerer):
                loaded.prepare(wait_for_models)

    def close(self) -> None:
        """Save what a restart would otherwise rebuild (the keyword index beside an embedded store); stop the query
        encoder's thread."""
        self._index.save()
        self._retriever.close()

    def _answering(self) -> Answerer:
        """The answerer, made on first use: ingesting and listing never load a model."""
        if self._answerer is None:
            with self._answerer_lock:
                if self._answerer is None and self._make_answerer is not None:
                    self._answerer = self._make_answerer(self._extractive, self._embedder, self._index)
        assert self._answerer is not None
        return self._answerer

    @property
    def vocabulary(self) -> Vocabulary:
        """The corpus's word vectors (synonyms for words the articles never use)."""
        return self._vocabulary

    @property
    def embedder_name(self) -> str:
        """The embedding model this corpus is indexed with."""
        return self._embedder.name

    def ask(self, question: str, top_k: int | None = None, filters: Filters | None = None) -> Answer:
        """Answer a question from the stored articles, citing exact sentences, or refuse."""
        return next(e.answer for e in self.ask_stream(question, top_k, filters, stream_text=False) if e.answer)

    def chat(self, turns: Sequence[Turn], top_k: int | None = None, filters: Filters | None = None) -> Answer:
        """Answer the conversation's last question, made standalone from the earlier turns."""
        return next(e.answer for e in self.chat_stream(turns, top_k, filters, stream_text=False) if e.answer)

    def chat_stream(
        self, turns: Sequence[Turn], top_k: int | None = None, filters: Filters | None = None, stream_text: bool = True
    ) -> Generator[StreamEvent, None, None]:
        """As ask_stream, for the conversation's last question made standalone (the final answer says which)."""
        question = self._answering().standalone(turns)
        return self.ask_stream(question, top_k, filters, stream_text)

    def ask_stream(
        self, question: str, top_k: int | None = None, filters: Filters | None = None, stream_text: bool = True
    ) -> Generator[StreamEvent, None, None]:
        """The retrieved passages, the answer's text as it is written, then the final answer with its timings."""
        asked = read_question(clean_question(question, self.settings.max_question_chars))
        return self._ask_stream(asked, top_k, filters, stream_text)

    def _ask_stream(
        self, asked: AskedQuestion, top_k: int | None, filters: Filters | None, stream_text: bool
    ) -> Generator[StreamEvent, None, None]:
        started = time.perf_counter()
        passages = self._retrieve_asked(asked, top_k, filters)
        retrieved = time.perf_counter()
        asked = replace(asked, ask=restore_case(asked.ask, [p.chunk.text for p in passages]))
        question = asked.ask
        events = self._compound(asked, passages, top_k, filters)  # its parts are retrieved and answered on their own
        if events is None:
            if not passages and self._chunks_stored() == 0:
                raise EmptyIndex("the index is empty: add articles with `rag ingest PATH` or POST /v1/documents")
            events = self._answering().stream(question, passages) if stream_text else iter([self._final(question, passages)])
        for event in events:
            if event.answer is None:
                yield event
                continue
            done = time.perf_counter()
            timings = {
                "retrieve": round((retrieved - started) * 1000, 2),
                "answer": round((done - retrieved) * 1000, 2),
                "total": round((done - started) * 1000, 2),
            }
            yield replace(event, answer=replace(event.answer, timings_ms=timings, question=question))

    def _compound(
        self, asked: AskedQuestion, whole_passages: list[Passage], top_k: int | None, filters: Filters | None
    ) -> Iterator[StreamEvent] | None:
        """For a question asking two things ("Where are the N7 and the new Leaf built?"): each part retrieved and
        answered on its own, as one answer. When only some parts are answered, the question is answered whole if a
        passage answers it, else the answered parts are given and the others said to be unanswered. None when no
        part is answered (the question is then answered whole, which refuses it if no passage answers all of it)."""
        question = asked.ask
        parts = parts_of(question)
        if not parts:
            return None
        found = [(part, self._retrieve_asked(replace(asked, ask=part), top_k, filters)) for part in parts]
        answers = [self._answering().answer(part, passages) for part, passages in found]
        if all(answer.refused for answer in answers):
            return None
        passages = tuple({p.chunk.id: p for _, retrieved in found for p in retrieved}.values())
        if any(answer.refused for answer in answers):
            whole = self._answering().answer(question, whole_passages)
            if not whole.refused:
                passages = tuple(whole_passages)
            answer = whole if not whole.refused else partly(question, parts, answers)
        else:
            answer = combined(question, answers)
        return iter([StreamEvent("passages", passages=passages), StreamEvent("delta", text=answer.answer), StreamEvent("final", passages=passages, answer=answer)])

    def _final(self, question: str, passages: list[Passage]) -> StreamEvent:
        return StreamEvent("final", passages=tuple(passages), answer=self._answering().answer(question, passages))

    def retrieve(self, question: str, top_k: int | None = None, filters: Filters | None = None) -> list[Passage]:
        """The passages retrieval finds for a question, best first (what the answerer reads)."""
        return self._retrieve_asked(read_question(clean_question(question, self.settings.max_question_chars)), top_k, filters)

    def _retrieve_asked(self, asked: AskedQuestion, top_k: int | None, filters: Filters | None) -> list[Passage]:
        """The passages for a question with the context it came with. A stated day ("Today is June 16, 2022.")
        narrows them to articles that were news by then, the month before it first; it never leaves none: when
        no article is that old, the others are kept."""
        wanted, filters = top_k or self.settings.top_k, filters or Filters()
        if asked.asked_on is None:
            return self._retriever.retrieve(asked.search_text, wanted, filters)
        day = asked.asked_on
        found = self._retriever.retrieve(asked.search_text, wanted * 2, filters)
        known = [p for p in found if _news_by(p.document.published, day)] or found
        return sorted(known, key=lambda p: (not _news_by(p.document.published, day, _RECENT_DAYS), -p.score))[:wanted]

    def nearest_chunks(self, query_vector: np.ndarray, n: int) -> list[str]:
        """The ids of the `n` chunks the dense search finds nearest a query vector (bench/ measures its recall)."""
        return [chunk_id for chunk_id, _ in self._retriever.dense(query_vector, n, Filters())]

    def ingest(self, article: Article) -> IngestResult:
        """Store one article: unchanged ones are skipped, changed ones replace their chunks in one write."""
        return self.ingest_many([article])[0]

    def ingest_many(self, articles: Sequence[Article]) -> list[IngestResult]:
        """Store articles together: one look-up of what is stored, one embedding call and one store write for the
        new and changed ones (all-or-nothing), unchanged ones skipped. An id given twice is ingested in turn."""
        ids = [article.id for article in articles]
        if len(set(ids)) < len(ids):
            return [result for article in articles for result in self.ingest_many([article])]
        with self._write_lock:
            self._check_folder()
            stored = self._store.chunk_hashes_of(ids)
            results: list[IngestResult] = []
            pending: list[_Pending] = []
            for article in articles:
                digest, existing = content_hash(article), stored.get(article.id, {})
                if existing and _is_whole(article.id, existing, digest):
                    results.append(IngestResult(article.id, article.title, "unchanged", len(existing)))
                else:
                    chunks = chunk_article(article, self._embedder.count_tokens, self.settings.chunk_tokens)
                    pending.append(_Pending(article, digest, chunks, existing))
                    results.append(IngestResult(article.id, article.title, "updated" if existing else "created", len(chunks)))
            if pending:
                writes = self._embedded(pending)
                self._index.before_write()
                self._store.write_documents(writes)
                self._index.written(writes)
                self._vocabulary.learn("\n".join(f"{p.article.title}\n{p.article.text}" for p in pending))
        return results

    def _embedded(self, pending: list["_Pending"]) -> list[DocumentWrite]:
        """Chunk and sentence vectors of these articles (two model calls in all), as the store's writes."""
        chunk_texts = [f"{p.article.title}\n{chunk.text.strip()}" for p in pending for chunk in p.chunks]
        sentence_texts = [
            f"{p.article.title}\n{p.article.text[a:b]}" for p in pending for chunk in p.chunks for a, b in chunk.sentences
        ]
        try:
            vectors = self._embedder.embed_passages(chunk_texts)
            flat = self._embedder.embed_passages(sentence_texts)
        except (RuntimeError, ValueError, MemoryError, OSError) as exc:  # the model's own failures
            titles = ", ".join(repr(p.article.title) for p in pending)
            raise EmbeddingFailed(f"embedding {titles} failed ({exc}); the stored versions are unchanged") from exc
        per_chunk = np.split(flat, np.cumsum([len(chunk.sentences) for p in pending for chunk in p.chunks])[:-1])
        writes, at = [], 0
        for p in pending:
            a = p.article
            info = DocumentInfo(a.id, a.title, a.url, a.published, a.source, len(p.chunks), p.digest)
            stale = sorted(set(p.existing) - {chunk.id for chunk in p.chunks})
            writes.append(DocumentWrite(info, p.chunks, vectors[at : at + len(p.chunks)], per_chunk[at : at + len(p.chunks)], stale))
            at += len(p.chunks)
        return writes

    def ingest_paths(
        self, paths: Iterable[Path], on_progress: ProgressCallback | None = None
    ) -> tuple[list[IngestResult], list[IngestFailure]]:
        """Ingest every article under these paths, several per store write; one bad file or article never stops
        the others (a batch that fails is retried one article at a time to say which)."""
        loaded = list(load_paths(list(paths), self.settings.max_document_bytes))
        results: list[IngestResult] = []
        failures: list[IngestFailure] = [item for item in loaded if isinstance(item, IngestFailure)]
        articles = [item for item in loaded if not isinstance(item, IngestFailure)]
        done = len(failures)
        for batch in _batches(articles):
            try:
                results.extend(self.ingest_many(batch))
            except (InvalidInput, StoreError, EmbeddingFailed):
                for article in batch:
                    try:
                        results.append(self.ingest(article))
                    except (InvalidInput, StoreError, EmbeddingFailed) as exc:
                        failures.append(IngestFailure(article.title, str(exc)))
            done += len(batch)
            if on_progress:
                on_progress(done, len(loaded), batch[-1].title)
        return results, failures

    def documents(self) -> list[DocumentInfo]:
        """Every stored article."""
        return self._store.documents()

    def document(self, document_id: str) -> DocumentView:
        """One stored article with its full text; NotFound when unknown."""
        chunks = self._store.document_chunks(document_id)
        if not chunks:
            raise NotFound(f"no document with id {document_id!r}: list them with GET /v1/documents")
        return DocumentView(chunks[0].document, "".join(c.chunk.text for c in chunks), tuple(chunks))

    def delete(self, document_id: str) -> int:
        """Remove an article and every chunk of it; NotFound when unknown."""
        with self._write_lock:
            self._check_folder()
            self._index.before_write()
            removed = self._store.delete_document(document_id)
            self._index.removed(document_id)
        if not removed:
            raise NotFound(f"no document with id {document_id!r}")
        return removed

    def chunk_count(self) -> int:
        """How many chunks the corpus holds; StoreError when its folder is gone."""
        self._check_folder()
        return self._chunks_stored()

    def _chunks_stored(self) -> int:
        """The store's chunk count: the in-process index's beside an embedded store (Chroma's first read of a
        collection loads its whole vector index into memory, which serving from the local index never needs)."""
        return self._index.live_chunks() if self._index.searches_vectors else self._store.count()

    def _check_folder(self) -> None:
        """The embedded store's folder must still be there: writes into a deleted one would vanish silently."""
        if self.settings.chroma_url:
            return
        folder = self.settings.data_dir
        if not (folder / "chroma.sqlite3").is_file():
            raise StoreError(f"the data folder {folder} (or its chroma.sqlite3) is gone: restore it, or restart to start an empty index")


def clean_question(question: str, max_chars: int) -> str:
    """The question without invisible characters and extra spaces; InvalidInput when empty or too long."""
    cleaned = " ".join(normalize_unicode(question).split())
    if not cleaned:
        raise InvalidInput("the question is empty: ask something about the articles")
    if len(cleaned) > max_chars:
        raise InvalidInput(f"the question is {len(cleaned)} characters long; the limit is {max_chars}")
    return cleaned


def _news_by(published: date | None, day: date, within_days: int | None = None) -> bool:
    """Whether an article could be the news of `day`: published by then (a day's grace for time zones), and
    within `within_days` before it when given. An undated article could be."""
    if published is None:
        return True
    return published <= day + timedelta(days=1) and (within_days is None or published >= day - timedelta(days=within_days))


@dataclass(frozen=True)
class _Pending:
    """An article to embed and store: its content hash, its chunks, and its stored chunks' hashes (if any)."""

    article: Article
    digest: str
    chunks: list[Chunk]
    existing: dict[str, str]


def _batches(articles: Sequence[Article]) -> Iterator[list[Article]]:
    """Consecutive groups of articles of at most ~_BATCH_CHARS characters (one article may exceed it alone)."""
    batch: list[Article] = []
    size = 0
    for article in articles:
        if batch and size + len(article.text) > _BATCH_CHARS:
            yield batch
            batch, size = [], 0
        batch.append(article)
        size += len(article.text)
    if batch:
        yield batch


def _is_whole(document_id: str, existing: dict[str, str], digest: str) -> bool:
    """Stored chunks are exactly 0..n-1 and all of this version (no half-written article)."""
    expected = {f"{document_id}:{i}" for i in range(len(existing))}
    return set(existing) == expected and all(h == digest for h in existing.values())


def index_path(settings: Settings) -> Path:
    """Where the local index beside an embedded store is saved (its chunk records beside it, `.chunks`)."""
    return settings.data_dir / f"{settings.collection}-index.npz"


def build(settings: Settings, embedder: Embedder | None = None, generator: LanguageModel | None = None) -> Pipeline:
    """Wire the configured embedding model, store and answerer (or given ones, to share or to test them)."""
    saved_index = None if settings.chroma_url else reading_saved_index(index_path(settings))  # meanwhile
    embedder = embedder or build_embedder(settings.embedder, settings.embed_threads, settings.model_dir)
    shared = settings.chroma_url is not None
    client = open_server_client(settings.chroma_url) if settings.chroma_url else open_persistent_client(settings.data_dir)
    store = ChunkStore(client, settings.collection, embedder.name, embedder.dimension, shared=shared, ef_search=settings.hnsw_ef_search)
    vocabulary = Vocabulary(TermStore(client, settings.collection, embedder.name, embedder.dimension), embedder, settings.synonym_min_similarity)
    if settings.answerer == "extractive" and settings.answer_check != "off":
        checker = generator or build_checker(settings)  # at start-up: a missing model is told before serving

        def checked(extractive: ExtractiveAnswerer, embedder: Embedder, keywords: LocalIndex) -> Answerer:
            enum_chars = OPENAI_ENUM_CHARS if settings.answer_check == "openai" else None
            short = ShortAnswers(checker, enum_chars) if settings.short_answers else None
            rereads = short is not None and settings.reread_below > 0  # only a short answer's copy tells how sure it was
            reread = ReadingAnswerer(checker, extractive, embedder.count_tokens, ReadingLimits(deadline_s=settings.llm_deadline_s)).answer if rereads else None
            return CheckedAnswerer(
                extractive, checker, extractive.doubt, settings.check_min_doubt, settings.llm_deadline_s, extractive.alternatives, extractive.near_misses, settings.check_tries,
                settings.check_min_probability, extractive.corrected, short, reread, settings.reread_below,
            )

        return Pipeline(settings, embedder, store, vocabulary, checked, saved_index=saved_index)
    if settings.answerer == "extractive" and generator is None:
        return Pipeline(settings, embedder, store, vocabulary, saved_index=saved_index)
    if generator is None:
        check_generator_settings(settings)
    limits = GenerationLimits(
        passages=settings.llm_passages,
        prompt_tokens=settings.llm_prompt_tokens,
        max_tokens=settings.llm_max_tokens,
        deadline_s=settings.llm_deadline_s,
        degrade_on_failure=settings.llm_on_failure == "extractive",
        # Measured: the 0.5B local model answers instead of rewriting a follow-up; rules carry the context there.
        condense_with_model=settings.answerer == "openai",
    )

    def generative(extractive: ExtractiveAnswerer, embedder: Embedder, keywords: LocalIndex) -> Answerer:
        model = generator or build_generator(settings)
        if settings.llm_style == "reader":
            reading = ReadingLimits(deadline_s=settings.llm_deadline_s, degrade_on_failure=settings.llm_on_failure == "extractive")
            return ReadingAnswerer(model, extractive, embedder.count_tokens, reading)
        return GenerativeAnswerer(model, extractive, embedder.count_tokens, lambda word: any(keywords.knows(t) for t in terms(word)), limits)

    return Pipeline(settings, embedder, store, vocabulary, generative, saved_index=saved_index)


def check_generator_settings(settings: Settings) -> None:
    """Fail at start-up, with what to set, when the configured LLM cannot work."""
    if settings.answerer == "local" and settings.local_model is not None and not settings.local_model.is_file():
        raise ConfigError(f"RAG_LOCAL_MODEL {settings.local_model} is not a file: point it at a .gguf model")
    if settings.answerer == "openai":
        build_openai_client(settings, "RAG_ANSWERER=openai")


def build_openai_client(settings: Settings, purpose: str) -> Any:
    """An `openai.OpenAI` client for the RAG_OPENAI_* settings, its own retries off; ConfigError naming `purpose`
    when neither a key nor a server address is set."""
    import openai

    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    if not key and not settings.openai_base_url:
        raise ConfigError(f"{purpose} needs RAG_OPENAI_API_KEY (or OPENAI_API_KEY), or RAG_OPENAI_BASE_URL for a local server")
    return openai.OpenAI(base_url=settings.openai_base_url, api_key=key or "unused", max_retries=0, timeout=settings.llm_deadline_s)


# The 0.5B model, asked the same check on 117 doubtful answers, said "no" to 94% of the right ones; the 1.5B kept 81%.
CHECK_MODEL = "qwen2.5-coder-1.5b"


def build_checker(settings: Settings) -> LanguageModel:
    """The model that reads doubtful extractive answers again (RAG_ANSWER_CHECK): the packaged 1.5B model, or the
    OpenAI-compatible server."""
    if settings.answer_check == "local":
        from rag.generate import LazyModel
        from rag.llm_local import LocalGenerator, packaged_model, require_packaged

        require_packaged(settings.model_dir, CHECK_MODEL)  # told at start-up; loaded (2 GB) at the first doubtful answer
        return LazyModel(f"local:{CHECK_MODEL}", lambda: LocalGenerator(packaged_model(settings.model_dir, CHECK_MODEL), settings.llm_threads, 1024))
    from rag.llm_openai import OpenAIGenerator

    return OpenAIGenerator(build_openai_client(settings, "RAG_ANSWER_CHECK=openai"), settings.openai_model, settings.llm_retries)


def build_generator(settings: Settings) -> LanguageModel:
    """The configured LLM: the embedded local model, or an OpenAI-compatible server's client."""
    if settings.answerer == "local":
        from rag.llm_local import LocalGenerator, packaged_model

        path = settings.local_model or packaged_model(settings.model_dir, settings.local_model_name)
        context = settings.llm_prompt_tokens + settings.llm_max_tokens + 256
        return LocalGenerator(path, settings.llm_threads, context)
    from rag.llm_openai import OpenAIGenerator

    return OpenAIGenerator(build_openai_client(settings, "RAG_ANSWERER=openai"), settings.openai_model, settings.llm_retries)
