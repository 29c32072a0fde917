"""The OpenAI-compatible answerer against a mocked server (respx): answers, verification, every failure path."""

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import respx
from fastapi.testclient import TestClient

from api.app import create_app
from rag.answer import PREMISE_CORRECTION
from rag.config import Settings
from rag.documents import make_article
from rag.pipeline import Pipeline, build
from tests.conftest import BAKERY, NCIC_QUESTION, CountingEmbedder
from tests.servers import app_in_thread

BASE = "http://llm.test/v1"
COMPLETIONS = f"{BASE}/chat/completions"
SECRET = "sk-test-secret-4242"


def reply(content: object) -> httpx.Response:
    return httpx.Response(200, json={"id": "x", "object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]})


def sse_reply(*pieces: str) -> httpx.Response:
    events = [{"choices": [{"index": 0, "delta": {"content": p}, "finish_reason": None}]} for p in pieces]
    events.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    body = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
    return httpx.Response(200, text=body, headers={"content-type": "text/event-stream"})


def openai_settings(data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": data_dir, "answerer": "openai", "openai_base_url": BASE, "openai_model": "test-model",
        "openai_api_key": SECRET, "llm_deadline_s": 3.0, "llm_retries": 1,
    }
    return Settings(**(values | overrides))


@pytest.fixture
def llm_app(seeded_dir: Path, embedder: CountingEmbedder) -> Iterator[tuple[Pipeline, TestClient]]:
    pipeline = build(openai_settings(seeded_dir), embedder)
    with TestClient(create_app(pipeline)) as client:
        yield pipeline, client


@respx.mock
def test_a_good_answer_keeps_its_citation_and_the_prompt_delimits_the_passages(llm_app: tuple[Pipeline, TestClient]) -> None:
    _, client = llm_app
    route = respx.post(COMPLETIONS).mock(return_value=reply("NCIC will hold the remaining 60 per cent of the venture [1]."))
    body = client.post("/v1/ask", json={"question": NCIC_QUESTION}).json()
    assert body["answer"] == "NCIC will hold the remaining 60 per cent of the venture. [1]"
    assert body["answerer"] == "openai:test-model" and body["refused"] is False and body["degraded"] is False
    assert body["verification"] == {"sentences": 1, "supported": 1, "repaired": 0, "fallback": False}
    assert "NCIC will invest 600 million yuan for the remaining 60 per cent" in body["citations"][0]["quote"]
    sent = route.calls.last.request
    assert sent.headers["authorization"] == f"Bearer {SECRET}"
    payload = json.loads(sent.content)
    system, user = payload["messages"]
    assert system["role"] == "system" and "NCIC" not in system["content"]
    assert user["content"].startswith("<<<PASSAGES\n[1] ") and "PASSAGES>>>\nQuestion: " + NCIC_QUESTION in user["content"]
    assert "remaining 60 per cent" in user["content"] and "remaining 60 per cent" not in system["content"]
    assert SECRET not in sent.content.decode() and payload["model"] == "test-model" and payload["temperature"] == 0


@respx.mock
def test_a_hallucinated_sentence_is_removed(llm_app: tuple[Pipeline, TestClient]) -> None:
    pipeline, _ = llm_app
    respx.post(COMPLETIONS).mock(return_value=reply("NCIC will hold the remaining 60 per cent [1]. Toyota will buy NCIC for 5 billion yuan [1]."))
    answer = pipeline.ask(NCIC_QUESTION)
    assert answer.answer == "NCIC will hold the remaining 60 per cent. [1]"
    assert answer.verification is not None and (answer.verification.sentences, answer.verification.supported) == (2, 1)


@respx.mock
def test_the_60_40_trap_falls_back_to_the_extractive_answer(llm_app: tuple[Pipeline, TestClient]) -> None:
    pipeline, _ = llm_app
    respx.post(COMPLETIONS).mock(return_value=reply("NCIC will hold a 40 per cent stake in the venture [1]."))
    answer = pipeline.ask(NCIC_QUESTION)
    assert "40 per cent stake in the venture" not in answer.answer and "60 per cent" in answer.answer
    assert answer.verification is not None and answer.verification.fallback is True and answer.verification.supported == 0


@respx.mock
def test_a_marker_to_a_missing_passage_is_dropped_and_the_sentence_re_cited(llm_app: tuple[Pipeline, TestClient]) -> None:
    pipeline, _ = llm_app
    respx.post(COMPLETIONS).mock(return_value=reply("NCIC will hold the remaining 60 per cent [9]."))
    answer = pipeline.ask(NCIC_QUESTION)
    assert answer.answer == "NCIC will hold the remaining 60 per cent. [1]"
    assert answer.verification is not None and answer.verification.repaired == 1
    assert [c.n for c in answer.citations] == [1] and "60 per cent" in answer.citations[0].quote


@respx.mock
def test_the_capital_of_france_is_refused_without_asking_the_model(llm_app: tuple[Pipeline, TestClient]) -> None:
    pipeline, _ = llm_app
    route = respx.post(COMPLETIONS).mock(return_value=reply("Paris [1]."))
    answer = pipeline.ask("What is the capital of France?")
    assert answer.refused is True and answer.citations == () and route.call_count == 0


@respx.mock
def test_429_becomes_503_with_retry_after_and_no_retry(llm_app: tuple[Pipeline, TestClient]) -> None:
    _, client = llm_app
    route = respx.post(COMPLETIONS).mock(return_value=httpx.Response(429, headers={"Retry-After": "7"}, json={"error": {"message": "slow down"}}))
    response = client.post("/v1/ask", json={"question": NCIC_QUESTION})
    assert response.status_code == 503 and response.headers["retry-after"] == "7"
    assert response.json()["error"] == "model server busy" and route.call_count == 1


@respx.mock
def test_500_is_retried_once_then_becomes_502(llm_app: tuple[Pipeline, TestClient]) -> None:
    _, client = llm_app
    route = respx.post(COMPLETIONS).mock(return_value=httpx.Response(500, json={"error": {"message": "boom"}}))
    response = client.post("/v1/ask", json={"question": NCIC_QUESTION})
    assert response.status_code == 502 and "500" in response.json()["detail"]
    assert route.call_count == 2  # one retry layer: ours (the SDK's own retries are off)


@respx.mock
def test_a_connection_error_becomes_502_and_a_retry_can_succeed(llm_app: tuple[Pipeline, TestClient]) -> None:
    _, client = llm_app
    route = respx.post(COMPLETIONS).mock(side_effect=[httpx.ConnectError("refused"), httpx.ConnectError("refused")])
    response = client.post("/v1/ask", json={"question": NCIC_QUESTION})
    assert response.status_code == 502 and "cannot reach" in response.json()["detail"] and route.call_count == 2
    route.side_effect = [httpx.ConnectError("refused"), reply("NCIC will hold the remaining 60 per cent [1].")]
    assert client.post("/v1/ask", json={"question": NCIC_QUESTION}).status_code == 200


@pytest.mark.parametrize(
    "upstream",
    [
        httpx.Response(200, text="<html><body>Bad gateway</body></html>", headers={"content-type": "text/html"}),
        httpx.Response(200, text='{"choices": [{"message": {"content": "NCIC', headers={"content-type": "application/json"}),
        httpx.Response(200, json={"id": "x", "choices": []}),
        reply(None),
        reply(""),
    ],
    ids=["html", "truncated-json", "no-choices", "null-content", "empty-content"],
)
@respx.mock
def test_a_malformed_reply_becomes_502(llm_app: tuple[Pipeline, TestClient], upstream: httpx.Response) -> None:
    _, client = llm_app
    respx.post(COMPLETIONS).mock(return_value=upstream)
    response = client.post("/v1/ask", json={"question": NCIC_QUESTION})
    assert response.status_code == 502 and response.json()["error"] == "upstream failure"


@respx.mock
def test_a_server_dripping_bytes_is_cut_off_at_the_deadline(seeded_dir: Path, embedder: CountingEmbedder) -> None:
    pipeline = build(openai_settings(seeded_dir, llm_deadline_s=1.0), embedder)

    def drip() -> Iterator[bytes]:
        for byte in b'{"choices": [{"message": {"content": "NCIC holds 60%"}}]}':
            time.sleep(0.2)
            yield bytes([byte])

    respx.post(COMPLETIONS).mock(return_value=httpx.Response(200, content=drip()))
    with TestClient(create_app(pipeline)) as client:
        started = time.monotonic()
        response = client.post("/v1/ask", json={"question": NCIC_QUESTION})
    assert response.status_code == 504 and time.monotonic() - started < 6  # the whole drip takes 12 s


def test_a_server_that_never_answers_is_cut_off_at_the_deadline(seeded_dir: Path, embedder: CountingEmbedder) -> None:
    # A real socket on loopback that accepts and then says nothing: httpx's own timeout must fire.
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True).start()
    port = listener.getsockname()[1]
    pipeline = build(openai_settings(seeded_dir, openai_base_url=f"http://127.0.0.1:{port}/v1", llm_deadline_s=1.0), embedder)
    with TestClient(create_app(pipeline)) as client:
        started = time.monotonic()
        response = client.post("/v1/ask", json={"question": NCIC_QUESTION})
    elapsed = time.monotonic() - started
    listener.close()
    for connection in accepted:
        connection.close()
    assert response.status_code == 504 and response.json()["error"] == "model server timeout"
    assert elapsed < 6  # without the deadline it waits forever


@respx.mock
def test_the_degraded_setting_answers_extractively_when_the_model_fails(seeded_dir: Path, embedder: CountingEmbedder) -> None:
    pipeline = build(openai_settings(seeded_dir, llm_on_failure="extractive"), embedder)
    respx.post(COMPLETIONS).mock(return_value=httpx.Response(500))
    with TestClient(create_app(pipeline)) as client:
        body = client.post("/v1/ask", json={"question": NCIC_QUESTION}).json()
    assert body["degraded"] is True and "60 per cent" in body["answer"] and body["citations"]


@respx.mock
def test_streaming_sends_passages_then_deltas_then_the_verified_final_answer(llm_app: tuple[Pipeline, TestClient]) -> None:
    _, client = llm_app
    route = respx.post(COMPLETIONS).mock(return_value=sse_reply("NCIC will hold ", "the remaining 60 per cent [1]. ", "Toyota owns 99% [1]."))
    with client.stream("POST", "/v1/ask", json={"question": NCIC_QUESTION, "stream": True}) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = _events(response.iter_lines())
    assert [name for name, _ in events] == ["passages", "delta", "delta", "delta", "final"]
    assert events[0][1]["passages"][0]["n"] == 1 and events[0][1]["passages"][0]["text"]
    assert "".join(data["text"] for name, data in events if name == "delta").endswith("Toyota owns 99% [1].")
    final = events[-1][1]
    assert final["answer"] == "NCIC will hold the remaining 60 per cent. [1]" and final["verification"]["sentences"] == 2
    assert json.loads(route.calls.last.request.content)["stream"] is True


@respx.mock
def test_an_upstream_failure_mid_stream_is_an_error_event(llm_app: tuple[Pipeline, TestClient]) -> None:
    _, client = llm_app
    respx.post(COMPLETIONS).mock(return_value=httpx.Response(500))
    with client.stream("POST", "/v1/ask", json={"question": NCIC_QUESTION}, headers={"accept": "text/event-stream"}) as response:
        events = _events(response.iter_lines())
    assert [name for name, _ in events] == ["passages", "error"] and events[1][1]["status"] == 502


def test_an_openai_answerer_without_a_key_or_server_fails_at_start_up(tmp_path: Path, embedder: CountingEmbedder) -> None:
    from rag.errors import ConfigError

    with pytest.raises(ConfigError, match="RAG_OPENAI_API_KEY"):
        build(Settings(data_dir=tmp_path, answerer="openai", openai_api_key=None), embedder)


def _events(lines: Iterator[str]) -> list[tuple[str, dict[str, object]]]:
    found, name = [], ""
    for line in lines:
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            found.append((name, json.loads(line[6:])))
    return found


def test_a_client_that_disconnects_mid_stream_stops_the_upstream_generation(seeded_dir: Path, embedder: CountingEmbedder) -> None:
    router = respx.mock(assert_all_called=False)
    router.route(host="127.0.0.1").pass_through()
    pulled: list[int] = []

    def slow_events() -> Iterator[bytes]:
        for n in range(100):
            pulled.append(n)
            time.sleep(0.05)
            yield f'data: {json.dumps({"choices": [{"delta": {"content": f"word{n} "}}]})}\n\n'.encode()

    router.post(COMPLETIONS).mock(return_value=httpx.Response(200, content=slow_events(), headers={"content-type": "text/event-stream"}))
    pipeline = build(openai_settings(seeded_dir, llm_deadline_s=20.0), embedder)
    with app_in_thread(create_app(pipeline)) as base:
        router.start()
        try:
            with httpx.stream("POST", f"{base}/v1/ask", json={"question": NCIC_QUESTION, "stream": True}, timeout=10) as response:
                for line in response.iter_lines():
                    if line.startswith("event: delta"):
                        break
            time.sleep(1.0)  # time for the server to notice the client left, even on a busy machine
            after_disconnect = len(pulled)
            time.sleep(1.0)
        finally:
            router.stop()
    assert len(pulled) - after_disconnect <= 1, "the upstream stream kept being read after the client left"
    assert len(pulled) < 60

FOLLOW_UP = [
    {"role": "user", "content": NCIC_QUESTION},
    {"role": "assistant", "content": "NCIC will hold the remaining 60 per cent. [1]"},
    {"role": "user", "content": "And how much is Dongfeng putting in?"},
]


@respx.mock
def test_a_follow_up_is_condensed_by_the_model_then_answered(llm_app: tuple[Pipeline, TestClient]) -> None:
    _, client = llm_app
    route = respx.post(COMPLETIONS).mock(side_effect=[
        reply("How much will Dongfeng put into the export venture?"),
        reply("Dongfeng Motor is contributing 400 million yuan [1]."),
    ])
    body = client.post("/v1/chat", json={"messages": FOLLOW_UP}).json()
    assert body["question"] == "How much will Dongfeng put into the export venture?"
    assert body["answer"] == "Dongfeng Motor is contributing 400 million yuan. [1]"
    condense_call, answer_call = (json.loads(call.request.content) for call in route.calls)
    assert "And how much is Dongfeng putting in?" in condense_call["messages"][1]["content"]
    assert answer_call["messages"][1]["content"].endswith("Question: How much will Dongfeng put into the export venture?")


@respx.mock
def test_a_rewrite_that_answers_instead_of_asking_falls_back_to_carried_context(llm_app: tuple[Pipeline, TestClient]) -> None:
    _, client = llm_app
    respx.post(COMPLETIONS).mock(side_effect=[
        reply("Dongfeng is putting in 100 million yuan."),
        reply("Dongfeng Motor is contributing 400 million yuan [1]."),
    ])
    body = client.post("/v1/chat", json={"messages": FOLLOW_UP}).json()
    assert body["question"].startswith("How much is Dongfeng putting in? (") and "venture" in body["question"]


@respx.mock
def test_a_sentence_that_does_not_state_the_asked_fact_is_dropped(llm_app: tuple[Pipeline, TestClient]) -> None:
    pipeline, _ = llm_app
    respx.post(COMPLETIONS).mock(return_value=reply("NCIC is Nissan's wholly owned subsidiary [1]."))  # true, but no stake
    answer = pipeline.ask(NCIC_QUESTION)
    assert answer.verification is not None and answer.verification.fallback is True
    assert "60 per cent" in answer.answer


@respx.mock
def test_empty_or_over_long_questions_never_reach_the_model(llm_app: tuple[Pipeline, TestClient]) -> None:
    _, client = llm_app
    route = respx.post(COMPLETIONS).mock(return_value=reply("NCIC will hold the remaining 60 per cent [1]."))
    assert client.post("/v1/ask", json={"question": "   \u200b "}).status_code == 422
    assert client.post("/v1/ask", json={"question": "Why? " * 1000}).status_code == 422
    assert client.post("/v1/chat", json={"messages": [{"role": "user", "content": " "}]}).status_code == 422
    assert route.call_count == 0


PORT = (
    "Cargo handled at the Port of Rotterdam fell 4.2 per cent last year to 436 million tonnes, the port authority said "
    "on Thursday, as shipping lines diverted vessels away from the Red Sea. Chief executive Boudewijn Siemons said "
    "container traffic held up better than bulk cargo, which suffered from lower demand for coal in Germany. "
    "The authority plans to invest 1.2 billion euros over the next five years in new quays."
)


def llm_pipeline_over(data_dir: Path, embedder: CountingEmbedder, title: str, text: str) -> Pipeline:
    """An OpenAI-answerer pipeline over one article."""
    pipeline = build(openai_settings(data_dir), embedder)
    pipeline.ingest(make_article(id=title.split()[0].lower(), title=title, text=text))
    return pipeline


@respx.mock
def test_a_true_sentence_far_from_the_question_does_not_pad_the_answer(tmp_path: Path, embedder: CountingEmbedder) -> None:
    pipeline = llm_pipeline_over(tmp_path / "data", embedder, "Rotterdam port volumes fall", PORT)
    respx.post(COMPLETIONS).mock(return_value=reply(
        "Cargo handled at the Port of Rotterdam fell 4.2 per cent last year to 436 million tonnes [1]. "
        "Chief executive Boudewijn Siemons said container traffic held up better than bulk cargo [1]."
    ))
    answer = pipeline.ask("Who is the port's chief executive?")
    assert answer.answer == "Chief executive Boudewijn Siemons said container traffic held up better than bulk cargo. [1]"
    [citation] = answer.citations
    assert citation.quote.startswith("Chief executive Boudewijn Siemons")




@pytest.fixture
def bakery_llm(tmp_path: Path, embedder: CountingEmbedder) -> Pipeline:
    return llm_pipeline_over(tmp_path / "data", embedder, "Bakery chain to close shops", BAKERY)


@respx.mock
def test_a_why_answer_that_only_restates_the_event_gives_way_to_the_reason(bakery_llm: Pipeline) -> None:
    respx.post(COMPLETIONS).mock(return_value=reply("Crumb & Co will close 38 of its 212 shops by the end of August [1]."))
    answer = bakery_llm.ask("Why is Crumb & Co closing shops?")
    assert "blamed" in answer.answer and answer.verification is not None and answer.verification.fallback


@respx.mock
def test_a_model_sentence_further_from_the_question_than_the_extractive_one_gives_way(bakery_llm: Pipeline) -> None:
    # true and cited, but about the owner, not where the bakery is
    respx.post(COMPLETIONS).mock(return_value=reply("Crumb & Co was bought by Harbour Lane Capital in 2021 [1]."))
    answer = bakery_llm.ask("Where is the chain's central bakery?")
    assert "Wakefield" in answer.answer and "Harbour Lane" not in answer.answer
    assert answer.verification is not None and answer.verification.fallback


@respx.mock
def test_a_why_question_about_what_did_not_happen_is_answered_without_asking_the_model(tmp_path: Path, embedder: CountingEmbedder) -> None:
    pipeline = llm_pipeline_over(tmp_path / "data", embedder, "Council loses noise case", (
        "A court ruled on Friday that Brennock Council must close the night market by 10pm. "
        "The council has 14 days to challenge the ruling but said it would not do so."))
    route = respx.post(COMPLETIONS).mock(return_value=reply("The council challenged the ruling because it was unfair [1]."))
    answer = pipeline.ask("Why did Brennock Council challenge the ruling?")
    assert answer.answer.startswith(PREMISE_CORRECTION) and "would not do so" in answer.answer
    assert route.call_count == 0
