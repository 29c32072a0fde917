"""Conversations over HTTP: /v1/chat follow-ups, and the official openai client against /v1/chat/completions."""

import json

import openai
from fastapi.testclient import TestClient

from tests.conftest import NCIC_QUESTION

FOLLOW_UP = [
    {"role": "user", "content": NCIC_QUESTION},
    {"role": "assistant", "content": "NCIC will invest 600 million yuan for the remaining 60 per cent. [1]"},
    {"role": "user", "content": "And how much is Dongfeng putting in?"},
]


def test_a_follow_up_is_made_standalone_and_answered_in_context(client: TestClient) -> None:
    body = client.post("/v1/chat", json={"messages": FOLLOW_UP}).json()
    assert "400 million yuan" in body["answer"] and body["citations"]
    assert body["question"].startswith("How much is Dongfeng putting in?") and "venture" in body["question"]
    alone = client.post("/v1/ask", json={"question": "And how much is Dongfeng putting in?"}).json()
    assert alone["question"] == "And how much is Dongfeng putting in?"


def test_a_conversation_without_a_user_message_is_a_clear_422(client: TestClient) -> None:
    response = client.post("/v1/chat", json={"messages": [{"role": "assistant", "content": "Hello"}]})
    assert response.status_code == 422 and "no user message" in response.json()["detail"]
    assert client.post("/v1/chat", json={"messages": []}).status_code == 422


def test_the_chat_stream_ends_with_the_final_answer(client: TestClient) -> None:
    with client.stream("POST", "/v1/chat", json={"messages": FOLLOW_UP, "stream": True}) as response:
        lines = [line for line in response.iter_lines() if line.startswith(("event:", "data:"))]
    assert lines[0] == "event: passages" and lines[-2] == "event: final"
    assert "400 million yuan" in json.loads(lines[-1][6:])["answer"]


def openai_client(client: TestClient) -> openai.OpenAI:
    return openai.OpenAI(base_url="http://testserver/v1", api_key="unused", http_client=client, max_retries=0)


def test_the_official_openai_client_gets_an_answer_with_citations(client: TestClient) -> None:
    sdk = openai_client(client)
    assert [m.id for m in sdk.models.list()] == ["newsqa"]
    completion = sdk.chat.completions.create(model="newsqa", messages=[{"role": "user", "content": NCIC_QUESTION}])
    message = completion.choices[0].message
    assert "60 per cent" in (message.content or "") and "[1]" in (message.content or "")
    citations = (message.model_extra or {})["citations"]
    assert citations[0]["n"] == 1 and "remaining 60 per cent" in citations[0]["quote"]


def test_the_official_openai_client_streams_the_same_answer_and_gets_citations_last(client: TestClient) -> None:
    sdk = openai_client(client)
    plain = sdk.chat.completions.create(model="newsqa", messages=FOLLOW_UP).choices[0].message.content
    chunks = list(sdk.chat.completions.create(model="newsqa", messages=FOLLOW_UP, stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == plain and "400 million yuan" in text
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert (last.model_extra or {})["citations"][0]["document_id"]
