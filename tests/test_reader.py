"""The reading answerer against a mocked OpenAI-compatible server (respx): the JSON it is asked for, and how its
reply is checked against the sentence it names before anyone sees it."""

import json
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import respx

from rag.config import Settings
from rag.pipeline import Pipeline, build
from rag.reader import Numbered, adds_to, copied_from, is_of_asked_kind, names_what_is_asked
from rag.types import Chunk, DocumentInfo, Passage, Verification
from tests.conftest import NCIC_QUESTION, CountingEmbedder

BASE = "http://llm.test/v1"
COMPLETIONS = f"{BASE}/chat/completions"


def completion(content: object) -> httpx.Response:
    body = {"id": "x", "object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}
    return httpx.Response(200, json=body)


def reply(content: object, states_it: bool = True) -> Callable[[httpx.Request], httpx.Response]:
    """The model's reading `content`, then its word on the check (the second, short call)."""

    def answer(request: httpx.Request) -> httpx.Response:
        checking = "states_it" in json.loads(request.content)["response_format"]["json_schema"]["schema"]["properties"]
        return completion(json.dumps({"states_it": states_it}) if checking else content)

    return answer


@pytest.fixture
def reader(seeded_dir: Path, embedder: CountingEmbedder) -> Pipeline:
    settings = Settings(
        data_dir=seeded_dir, answerer="openai", llm_style="reader", openai_base_url=BASE, openai_model="m", openai_api_key="k"
    )
    return build(settings, embedder)


def numbered(route: respx.Route, containing: str) -> int:
    """The number the last prompt gave the sentence containing `containing`."""
    user = json.loads(route.calls.last.request.content)["messages"][1]["content"]
    line = next(line for line in user.splitlines() if containing in line)
    return int(line[1 : line.index("]")])


@respx.mock
def test_a_short_answer_copied_from_the_named_sentence_is_given_with_that_sentence_cited(reader: Pipeline) -> None:
    route = respx.post(COMPLETIONS).mock(side_effect=reply('{"sentence": 1, "answer": "x"}'))
    reader.ask(NCIC_QUESTION)  # learn the sentence's number in this prompt
    n = numbered(route, "remaining 60 per cent")
    route.mock(side_effect=reply(json.dumps({"sentence": n, "answer": "the remaining 60 per cent"})))
    answer = reader.ask(NCIC_QUESTION)
    assert answer.answer == "the remaining 60 per cent [1]" and not answer.refused
    assert answer.answerer == "reader:openai:m"
    assert answer.verification == Verification(sentences=1, supported=1, repaired=0, fallback=False)
    [citation] = answer.citations
    assert citation.quote.startswith("With a registered capital of 1 billion yuan") and citation.quote.endswith("60 per cent.")
    payload = json.loads(route.calls[-2].request.content)
    assert payload["response_format"]["type"] == "json_schema"
    assert payload["response_format"]["json_schema"]["schema"]["required"] == ["sentence", "answer"]
    system, user = payload["messages"]
    assert "NCIC" not in system["content"] and user["content"].endswith(f"Question: {NCIC_QUESTION}")
    assert user["content"].startswith("Article: ")


@respx.mock
def test_an_answer_no_shown_sentence_holds_is_refused(reader: Pipeline) -> None:
    respx.post(COMPLETIONS).mock(side_effect=reply('{"sentence": 1, "answer": "NCIC holds a 40 per cent stake"}'))
    answer = reader.ask(NCIC_QUESTION)
    assert answer.refused and answer.citations == ()


@respx.mock
def test_a_span_under_the_wrong_number_is_cited_from_the_sentence_that_holds_it(reader: Pipeline) -> None:
    route = respx.post(COMPLETIONS).mock(side_effect=reply('{"sentence": 1, "answer": "x"}'))
    reader.ask(NCIC_QUESTION)
    n = numbered(route, "remaining 60 per cent")
    wrong = 1 if n != 1 else 2
    route.mock(side_effect=reply(json.dumps({"sentence": wrong, "answer": "60 per cent"})))
    answer = reader.ask(NCIC_QUESTION)
    assert answer.answer == "60 per cent [1]" and "remaining 60 per cent" in answer.citations[0].quote
    assert answer.verification == Verification(sentences=1, supported=0, repaired=1, fallback=False)


@respx.mock
@pytest.mark.parametrize("content", ['{"sentence": 0, "answer": ""}', "not json", '{"answer": "60 per cent"}', '{"sentence": 99, "answer": "60"}'])
def test_a_refusal_or_a_malformed_reply_is_a_refusal(reader: Pipeline, content: str) -> None:
    respx.post(COMPLETIONS).mock(side_effect=reply(content))
    assert reader.ask(NCIC_QUESTION).refused


@respx.mock
def test_an_answer_the_check_says_its_sentence_does_not_state_is_refused(reader: Pipeline) -> None:
    route = respx.post(COMPLETIONS).mock(side_effect=reply('{"sentence": 1, "answer": "x"}'))
    reader.ask(NCIC_QUESTION)
    n = numbered(route, "remaining 60 per cent")
    route.mock(side_effect=reply(json.dumps({"sentence": n, "answer": "60 per cent"}), states_it=False))
    assert reader.ask(NCIC_QUESTION).refused
    checked = json.loads(route.calls.last.request.content)["messages"][1]["content"]
    assert checked.startswith("Sentence: With a registered capital") and checked.endswith("Proposed answer: 60 per cent")


@respx.mock
def test_a_question_about_nothing_stored_never_reaches_the_model(reader: Pipeline) -> None:
    route = respx.post(COMPLETIONS).mock(side_effect=reply('{"sentence": 1, "answer": "Paris"}'))
    assert reader.ask("What is the capital of France?").refused
    assert not route.called


def test_a_span_is_found_as_the_sentence_writes_it() -> None:
    sentence = "Serbia’s Luka Kovač won his third Wimbledon title on Sunday."
    assert copied_from("luka kovač", sentence) == "Luka Kovač"
    assert copied_from("Serbia's Luka Kovač", sentence) == "Serbia’s Luka Kovač"
    assert copied_from("Novak Luka Kovač", sentence) == "Luka Kovač"  # a first name the model added is dropped
    assert copied_from("Novak Djokovic", sentence) is None
    assert copied_from("Kov", sentence) is None  # whole words only


def test_an_answer_must_say_more_than_the_question() -> None:
    assert not adds_to("Which airline agreed to buy Baltic Wings?", "Baltic Wings")
    assert adds_to("Which airline agreed to buy Baltic Wings?", "Corsair Air")


def test_words_left_out_of_a_span_may_not_be_the_questions_or_the_sentences() -> None:
    sentence = "Dongfeng Motor will hold a 40 per cent stake, while NCIC will invest 600 million yuan for the remaining 60 per cent."
    assert copied_from("NCIC holds a 40 per cent stake", sentence, "What stake will NCIC hold?") is None
    assert copied_from("Juan Carlos Ruiz Mena", "Andrés Ruiz Mena won the run-off.", "Who won?") == "Ruiz Mena"


def _shown(title: str, text: str) -> tuple[Numbered, list[Passage]]:
    chunk = Chunk("doc", 0, text, 0, len(text), ((0, len(text)),))
    passage = Passage(chunk, DocumentInfo("doc", title, None, None, None, 1, "h"), 0.9, 0.9, 1.0, (0.9,))
    return Numbered(1, passage, 0, text), [passage]


def test_an_answer_from_an_article_that_does_not_name_what_is_asked_is_not_taken() -> None:
    item, passages = _shown("Norway tops medal table", "Johannes Thingnes Bø won four golds in Beijing.")
    assert not names_what_is_asked("Who won the men's singles at Wimbledon?", item, passages)
    assert names_what_is_asked("Who won four golds in Beijing?", item, passages)
    assert names_what_is_asked("Which US state hosted the Beijing games?", item, passages)  # half of the names


def test_an_answer_of_the_wrong_kind_is_not_taken() -> None:
    assert not is_of_asked_kind("When was the Vaultis chief executive arrested?", "Joseph Rotunda")
    assert is_of_asked_kind("When was the Vaultis chief executive arrested?", "on Monday")
    assert not is_of_asked_kind("How many miners were rescued?", "Shandong")
    assert is_of_asked_kind("Which country is the champion from?", "Kazakhstan")


@respx.mock
def test_the_answer_stage_of_a_two_part_question_is_timed_as_answering(reader: Pipeline) -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        time.sleep(0.5)
        return completion('{"sentence": 0, "answer": ""}')

    respx.post(COMPLETIONS).mock(side_effect=slow)
    answer = reader.ask("What stake will NCIC hold and how much will Dongfeng invest?")
    assert answer.timings_ms["answer"] >= 1000  # two parts, each read by the model
    assert answer.timings_ms["retrieve"] < answer.timings_ms["answer"]
