"""Turn the last message of a conversation into a question that stands on its own."""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rag.errors import InvalidInput, UpstreamError
from rag.generate import Deadline, LanguageModel, Message
from rag.question import names_as_written
from rag.terms import STOP_WORDS

Role = Literal["system", "user", "assistant"]
_PRONOUNS = re.compile(r"\b(it|its|they|them|their|theirs|he|him|his|she|her|hers|this|that|these|those|there|the company|the firm)\b", re.I)
_ELLIPTIC_OPENING = re.compile(r"^\s*(and|but|also|so|what about|how about|and what about|then)\b[\s,]*", re.I)
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
CONDENSE_PROMPT = (
    "Rewrite the user's last question so that it can be understood without the conversation: replace pronouns "
    "and fill in what it leaves out with the names and things from the earlier questions. Reply with the "
    "rewritten question only, on one line."
)


@dataclass(frozen=True)
class Turn:
    """One message of a conversation."""

    role: Role
    content: str


def last_question(turns: Sequence[Turn]) -> str:
    """The last user message; InvalidInput when the conversation holds none."""
    for turn in reversed(turns):
        if turn.role == "user" and turn.content.strip():
            return turn.content.strip()
    raise InvalidInput("the conversation has no user message to answer")


def carry_context(turns: Sequence[Turn]) -> str:
    """The last question, with the names and subject words of the earlier questions added when it leans on them
    ("And how much is Dongfeng putting in?" after a question about the export venture)."""
    question = last_question(turns)
    earlier = [t.content for t in turns if t.role == "user" and t.content.strip()][:-1]
    if not earlier or not _leans_on_earlier(question):
        return question
    previous = earlier[-1]
    own = {w.lower() for w in _WORD.findall(question)}
    carried = [n for n in names_as_written(previous) if n.lower() not in own]
    subject = [w for w in _WORD.findall(previous) if w.lower() not in STOP_WORDS and w.lower() not in own and len(w) > 2]
    subject = [w for w in subject if w not in carried and not w.lower().startswith(("what", "which", "how", "who", "when", "where", "why"))]
    added = " ".join(dict.fromkeys(carried + subject))
    body = _ELLIPTIC_OPENING.sub("", question)
    body = body[:1].upper() + body[1:]
    return f"{body} ({added})" if added else body


def condense(turns: Sequence[Turn], model: LanguageModel, deadline: Deadline) -> str:
    """The LLM's standalone rewrite of the last question; the carried-context question when the rewrite fails or
    looks wrong (empty, several lines, far longer than the conversation warrants)."""
    fallback = carry_context(turns)
    if fallback == last_question(turns) and not _leans_on_earlier(fallback):
        return fallback
    history = "\n".join(f"{t.role}: {' '.join(t.content.split())[:500]}" for t in turns[-6:] if t.role in ("user", "assistant"))
    messages: list[Message] = [{"role": "system", "content": CONDENSE_PROMPT}, {"role": "user", "content": history}]
    try:
        rewritten = " ".join(model.complete(messages, 60, deadline).split())
    except UpstreamError:
        return fallback
    rewritten = re.sub(r"^(rewritten question|question|user)\s*:\s*", "", rewritten, flags=re.I).strip(' "')
    own_names = {n.lower() for n in names_as_written(last_question(turns))}
    kept_names = own_names <= {n.lower() for n in names_as_written(rewritten)} | {w.lower() for w in _WORD.findall(rewritten)}
    if not rewritten.endswith("?") or not kept_names or len(rewritten) > 2 * len(fallback) + 40:
        return fallback  # a small model tends to answer instead of rewriting
    return rewritten


def _leans_on_earlier(question: str) -> bool:
    return bool(_ELLIPTIC_OPENING.match(question) or _PRONOUNS.search(question) or len(_WORD.findall(question)) <= 4)


