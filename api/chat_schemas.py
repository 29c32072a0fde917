"""Bodies of the conversation endpoints: /v1/chat and the OpenAI-compatible /v1/chat/completions."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas import CitationOut, FiltersIn, Text
from rag.conversation import Turn

MAX_TURNS = 50


class MessageIn(BaseModel):
    """One message of the conversation."""

    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "user", "assistant"]
    content: Text = Field(..., max_length=20_000)


class ChatRequest(BaseModel):
    """A conversation; its last user message is answered, made standalone from the earlier ones."""

    model_config = ConfigDict(extra="forbid")

    messages: list[MessageIn] = Field(..., min_length=1, max_length=MAX_TURNS)
    top_k: int | None = Field(None, ge=1, le=50)
    filters: FiltersIn | None = None
    stream: bool = False

    def turns(self) -> list[Turn]:
        return [Turn(m.role, m.content) for m in self.messages]


class CompletionRequest(BaseModel):
    """The OpenAI chat-completions request (fields this service does not use are accepted and ignored)."""

    model_config = ConfigDict(extra="ignore")

    model: Text = Field("newsqa", max_length=200)
    messages: list[MessageIn] = Field(..., min_length=1, max_length=MAX_TURNS)
    stream: bool = False

    def turns(self) -> list[Turn]:
        return [Turn(m.role, m.content) for m in self.messages]


class CompletionMessage(BaseModel):
    """The assistant's message, with the structured citations its `[n]` markers point at."""

    role: Literal["assistant"] = "assistant"
    content: str
    citations: list[CitationOut]
    refused: bool


class CompletionChoice(BaseModel):
    index: int = 0
    message: CompletionMessage
    finish_reason: Literal["stop"] = "stop"


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class Completion(BaseModel):
    """An OpenAI-shaped chat completion."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[CompletionChoice]
    usage: Usage = Usage()


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "newsqa"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]
