"""Reading again when unsure (RAG_REREAD_BELOW): when the check's model copies an answer's short answer with little
confidence, it reads the retrieved sentences itself and the sentence it names answers instead. The model is an
OpenAI-compatible server mocked with respx; the packaged model's confidences are measured in docs/evaluation.md."""

import json
import math
from pathlib import Path

import httpx
import respx

from rag.pipeline import Pipeline, build
from rag.short import copy_confidence
from tests.conftest import CountingEmbedder
from tests.test_check import COMPLETIONS, articles_folder, server_check
from tests.test_short import ARTICLE, PRICE

LEAD = "SEATTLE, Dec 4 (NewsWire) - Alaska Air Group said on Sunday"


def tokens(pieces: list[str], first_value_probability: float) -> list[dict]:
    """The logprobs of a reply written as `pieces`, its answer's first token (the fifth piece) that likely."""
    content = []
    for n, piece in enumerate(pieces):
        logprob = math.log(first_value_probability) if n == 4 else -0.01
        content.append({"token": piece, "logprob": logprob, "top_logprobs": [{"token": piece, "logprob": logprob}, {"token": "x", "logprob": -6.0}]})
    return content


def server(copy_confidence: float, reader_reply: dict) -> object:  # a respx side effect
    """A mocked server: the short answer "$18 a share" copied with `copy_confidence`, the reader's reply
    `reader_reply`, and every check finding the sentence stating the answer."""

    def reply(request: httpx.Request) -> httpx.Response:
        payload = json.loads(request.content)
        asked = payload["response_format"]["json_schema"]["schema"]["required"]
        logprobs = None
        if asked == ["answer"]:
            content = '{"answer": "$18 a share"}'
            logprobs = {"content": tokens(['{"', "answer", '":', ' "', "$", "18", " a", " share", '"}'], copy_confidence)}
        elif asked == ["sentence", "answer"]:
            content = json.dumps(reader_reply)
        else:
            content = json.dumps({"states_it": True})
        choice = {"index": 0, "message": {"role": "assistant", "content": content}, "logprobs": logprobs}
        return httpx.Response(200, json={"id": "x", "object": "chat.completion", "choices": [choice]})

    return reply


def reader_asks(route: respx.Route) -> list[dict]:
    payloads = [json.loads(call.request.content) for call in route.calls]
    return [p for p in payloads if p["response_format"]["json_schema"]["schema"]["required"] == ["sentence", "answer"]]


def airline(tmp_path: Path, embedder: CountingEmbedder, **overrides: object) -> Pipeline:
    pipeline = build(server_check(tmp_path, short_answers=True, **overrides), embedder)
    pipeline.ingest_paths([articles_folder(tmp_path, alaska=ARTICLE)])
    return pipeline


@respx.mock
def test_a_short_answer_copied_unsure_is_replaced_by_the_sentence_the_model_reads_as_answering(tmp_path: Path, embedder: CountingEmbedder) -> None:
    route = respx.post(COMPLETIONS).mock(side_effect=server(0.2, {"sentence": 1, "answer": "about $1.9 billion"}))
    answer = airline(tmp_path, embedder).ask(PRICE)
    assert not answer.refused and answer.short == "about $1.9 billion"
    assert answer.citations[0].quote.startswith(LEAD) and answer.answer.startswith(LEAD)  # the sentence answers, short beside
    (read,) = reader_asks(route)
    assert "[1]" in read["messages"][1]["content"] and PRICE in read["messages"][1]["content"]  # numbered sentences, then the question


@respx.mock
def test_a_short_answer_copied_surely_is_not_read_again(tmp_path: Path, embedder: CountingEmbedder) -> None:
    route = respx.post(COMPLETIONS).mock(side_effect=server(0.9, {"sentence": 1, "answer": "about $1.9 billion"}))
    answer = airline(tmp_path, embedder).ask(PRICE)
    assert answer.short == "$18 a share" and answer.citations[0].quote.startswith("Alaska will pay $18 a share")
    assert reader_asks(route) == []


@respx.mock
def test_the_answer_stands_when_the_model_reading_again_finds_no_sentence_answering(tmp_path: Path, embedder: CountingEmbedder) -> None:
    for reply in ({"sentence": 0, "answer": ""}, {"sentence": 1, "answer": "$25 a share"}):  # none; words no sentence holds
        with respx.mock:
            route = respx.post(COMPLETIONS).mock(side_effect=server(0.2, reply))
            answer = airline(tmp_path / str(len(reply["answer"])), embedder).ask(PRICE)
            assert answer.short == "$18 a share" and len(reader_asks(route)) == 1, reply


@respx.mock
def test_reading_again_switched_off_asks_nothing_more(tmp_path: Path, embedder: CountingEmbedder) -> None:
    route = respx.post(COMPLETIONS).mock(side_effect=server(0.01, {"sentence": 1, "answer": "about $1.9 billion"}))
    assert airline(tmp_path, embedder, reread_below=0.0).ask(PRICE).short == "$18 a share"
    assert reader_asks(route) == []


def test_the_copys_confidence_is_the_models_probability_of_beginning_it_where_it_did_or_just_before() -> None:
    sentence = "The team, led by glaciologist Matthias Huss, combined satellite images with measurements taken on 20 glaciers."
    first = {"Matthias": math.log(0.45), "led": math.log(0.4), "20": math.log(0.1)}
    places = [('{"', {}), ("answer", {}), ('":', {}), (' "', {}), ("Matthias", first), (" Huss", {" Huss": 0.0}), ('"}', {})]
    assert math.isclose(copy_confidence(places, sentence, "Matthias Huss"), 0.85)  # "led by glaciologist Matthias Huss" names him too
    assert math.isclose(copy_confidence(places, sentence, "20 glaciers"), 0.1)  # the likelier beginnings name another thing
    merged = [('{"answer": "', {}), ("Matthias", {"Matthias": math.log(0.7)}), ('"}', {})]
    assert math.isclose(copy_confidence(merged, sentence, "Matthias Huss"), 0.7)
    assert copy_confidence([], sentence, "Matthias Huss") == 1.0  # a server that tells no probabilities: taken as sure
