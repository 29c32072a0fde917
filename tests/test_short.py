"""Short answers beside the cited sentence (RAG_SHORT_ANSWERS): the packaged model copying them out of the seeds'
sentences, and, with an OpenAI-compatible server mocked by respx, what is asked and what a reply must be to be kept."""

import json
from pathlib import Path

import httpx
import pytest
import respx

from api.app import create_app
from rag.config import Settings
from rag.pipeline import Pipeline, build
from rag.short import spans_of
from tests.conftest import NCIC_QUESTION, SEEDS, CountingEmbedder
from tests.test_check import ARTICLE as WIMBLEDON
from tests.test_check import CHAMPIONS, COMPLETIONS, articles_folder, server_check

ARTICLE = """Title: Alaska Air to buy Hawaiian Airlines
Published: 2023-12-04

SEATTLE, Dec 4 (NewsWire) - Alaska Air Group said on Sunday it would buy Hawaiian Holdings for about $1.9 billion including debt, in a deal that would create the fifth-largest U.S. airline.
Alaska will pay $18 a share in cash, nearly four times Hawaiian's closing price on Friday.
The combined airline would keep both brands and fly from hubs in Seattle and Honolulu.
Alaska shareholders would own about 90 per cent of the combined company.
"""
PRICE = "How much a share will Alaska pay for Hawaiian?"


def replying(short: str, states_it: bool = True):  # noqa: ANN201 - a respx side effect
    """A mocked server answering the check with `states_it` and the short-answer request with `short`."""

    def reply(request: httpx.Request) -> httpx.Response:
        payload = json.loads(request.content)
        asked = payload["response_format"]["json_schema"]["schema"]["required"]
        content = json.dumps({"answer": short} if asked == ["answer"] else {"states_it": states_it})
        choice = {"index": 0, "message": {"role": "assistant", "content": content}}
        return httpx.Response(200, json={"id": "x", "object": "chat.completion", "choices": [choice]})

    return reply


def replying_by_sentence(said: str, short: str, otherwise: str):  # noqa: ANN201 - a respx side effect
    """A mocked server copying `short` out of a sentence that says `said`, and `otherwise` out of any other."""

    def reply(request: httpx.Request) -> httpx.Response:
        user = json.loads(request.content)["messages"][1]["content"]
        return replying(short if said in user else otherwise)(request)

    return reply


def short_asks(route: respx.Route) -> list[dict]:
    """The requests for a short answer the server received."""
    payloads = [json.loads(call.request.content) for call in route.calls]
    return [p for p in payloads if p["response_format"]["json_schema"]["schema"]["required"] == ["answer"]]


@pytest.fixture
def airline(tmp_path: Path, embedder: CountingEmbedder) -> Pipeline:
    pipeline = build(server_check(tmp_path, short_answers=True), embedder)
    pipeline.ingest_paths([articles_folder(tmp_path, alaska=ARTICLE)])
    return pipeline


@respx.mock
def test_the_short_answer_is_copied_from_the_cited_sentence_and_given_beside_it(airline: Pipeline) -> None:
    route = respx.post(COMPLETIONS).mock(side_effect=replying("$18 a share"))
    answer = airline.ask(PRICE)
    assert not answer.refused and answer.short == "$18 a share"
    assert answer.answer.startswith("Alaska will pay $18 a share in cash")  # the sentence still answers
    (asked,) = short_asks(route)
    assert asked["messages"][1]["content"] == f"Sentence: {answer.citations[0].quote}\nQuestion: {PRICE}"
    allowed = asked["response_format"]["json_schema"]["schema"]["properties"]["answer"]["enum"]
    assert "" in allowed and "$18 a share" in allowed and "Alaska will pay $18 a share in cash" in allowed  # its own words only
    assert "$20 a share" not in allowed and "in cash," not in allowed and "in cash" in allowed  # nothing it does not say, no dangling comma


def test_the_runs_a_short_answer_may_be_are_the_sentences_own_words_and_at_most_five_hundred() -> None:
    assert spans_of("Carter, a Democrat, was president from 1977 to 1981.")[:3] == ["Carter", "Carter, a", "Carter, a Democrat"]
    assert "1977 to 1981" in spans_of("Carter, a Democrat, was president from 1977 to 1981.")
    long = " ".join(f"word{i}" for i in range(120))
    runs = spans_of(long)
    assert len(runs) <= 500 and "word0" in runs and "word119" in runs and all(run in long for run in runs)
    forty = " ".join(f"word{i}" for i in range(40))
    assert max(len(run.split()) for run in spans_of(forty)) == 12  # 474 runs: within every limit
    capped = spans_of(forty, most_chars=7_500)  # OpenAI's: past 250 values, 7,500 characters in all
    assert len(capped) <= 250 or sum(map(len, capped)) <= 7_500
    assert "word39" in capped and max(len(run.split()) for run in capped) < 12


@respx.mock
def test_a_short_answer_is_written_as_the_sentence_writes_it(airline: Pipeline) -> None:
    respx.post(COMPLETIONS).mock(side_effect=replying("  $18 A SHARE. "))
    assert airline.ask(PRICE).short == "$18 a share"


@respx.mock
def test_an_openai_server_is_sent_an_enum_within_its_limits_for_a_long_sentence(tmp_path: Path, embedder: CountingEmbedder) -> None:
    sentence = (
        "Alaska Air Group said on Sunday it would buy Hawaiian Holdings for about $1.9 billion including debt, in a deal "
        "that analysts, regulators, unions and travellers across the Pacific islands and the western United States said "
        "would create the fifth-largest airline in the country and reshape fares between Seattle, Honolulu and Anchorage."
    )
    pipeline = build(server_check(tmp_path, short_answers=True), embedder)
    pipeline.ingest_paths([articles_folder(tmp_path, deal=f"Title: Alaska to buy Hawaiian\nPublished: 2023-12-04\n\n{sentence}\n")])
    route = respx.post(COMPLETIONS).mock(side_effect=replying("about $1.9 billion"))
    assert pipeline.ask("How much will Alaska Air pay for Hawaiian Holdings?").short == "about $1.9 billion"
    allowed = short_asks(route)[0]["response_format"]["json_schema"]["schema"]["properties"]["answer"]["enum"]
    assert len(allowed) <= 500 and (len(allowed) <= 250 or sum(map(len, allowed)) <= 7_500)
    assert len(spans_of(sentence)) > 250 and sum(map(len, spans_of(sentence))) > 7_500  # uncapped, it would be over


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        ("$20 a share", "a figure the sentence does not say"),
        ("Alaska", "only the question's own words"),
        ("", "the model found no answer in the sentence"),
    ],
)
@respx.mock
def test_an_answer_no_short_answer_can_be_copied_from_is_passed_over_and_refused_when_no_other_sentence_has_one(
    airline: Pipeline, reply: str, why: str
) -> None:
    route = respx.post(COMPLETIONS).mock(side_effect=replying(reply))
    answer = airline.ask(PRICE)
    assert answer.refused and answer.citations == () and answer.short is None, why
    assert len(short_asks(route)) >= 2, why  # the next-best sentences were read too


@respx.mock
def test_the_next_best_sentence_answers_when_the_best_one_yields_no_short_answer(airline: Pipeline) -> None:
    """ "Which hubs…" against the lead that names no hub: its short answer would be the question's own words."""
    respx.post(COMPLETIONS).mock(side_effect=replying_by_sentence("hubs in Seattle", "Seattle and Honolulu", "the combined airline"))
    answer = airline.ask("Where will the combined airline have its hubs?")
    assert not answer.refused and answer.short == "Seattle and Honolulu"
    assert answer.citations[0].quote.startswith("The combined airline would keep both brands")


@pytest.mark.parametrize(
    ("story", "question", "reply", "short"),
    [
        ("Alaska shareholders would own about 90 per cent of the combined company.", "What share of the combined company would Alaska shareholders own?", "90%", "90 per cent"),
        ("Police said the man fired five shots at the minister.", "How many shots did the man fire at the minister?", "5", "five"),
        ("Ohtani signed a 10-year, $700 million contract with the Dodgers.", "How long is Ohtani's contract with the Dodgers?", "10 years", "10-year"),
        ("New Zealand pledged an initial NZ$500,000 in aid to Tonga in 2022.", "How much aid did New Zealand pledge to Tonga?", "$500,000", "NZ$500,000"),
    ],
)
@respx.mock
def test_the_model_may_copy_only_the_sentences_own_words_and_a_reply_written_otherwise_is_no_short_answer(
    tmp_path: Path, embedder: CountingEmbedder, story: str, question: str, reply: str, short: str
) -> None:
    pipeline = build(server_check(tmp_path, short_answers=True), embedder)
    pipeline.ingest_paths([articles_folder(tmp_path, story=f"Title: A story\nPublished: 2024-05-15\n\n{story}\n")])
    route = respx.post(COMPLETIONS).mock(side_effect=replying(reply))  # a server that does not hold to the schema
    assert pipeline.ask(question).refused
    allowed = short_asks(route)[0]["response_format"]["json_schema"]["schema"]["properties"]["answer"]["enum"]
    assert short in allowed and reply not in allowed  # the form the sentence writes is the one the model may copy
    respx.post(COMPLETIONS).mock(side_effect=replying(short))
    answer = pipeline.ask(question)
    assert not answer.refused and answer.short == short


@respx.mock
def test_a_yes_or_no_question_is_answered_without_a_short_answer_and_asks_for_none(airline: Pipeline) -> None:
    route = respx.post(COMPLETIONS).mock(side_effect=replying("Yes"))
    answer = airline.ask("Would the combined airline keep both brands?")
    assert not answer.refused and "keep both brands" in answer.answer
    assert answer.short is None and short_asks(route) == []
    route.side_effect = replying("both brands")
    assert airline.ask("What would the combined airline keep?").short == "both brands"  # asked otherwise: copied
    assert len(short_asks(route)) == 1


@respx.mock
def test_a_model_that_fails_leaves_the_answer_without_a_short_one(airline: Pipeline) -> None:
    def failing(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503) if json.loads(request.content)["response_format"]["json_schema"]["schema"]["required"] == ["answer"] else replying("")(request)

    respx.post(COMPLETIONS).mock(side_effect=failing)
    answer = airline.ask(PRICE)
    assert not answer.refused and "$18 a share" in answer.answer and answer.short is None


@respx.mock
def test_a_refusal_has_no_short_answer_and_asks_for_none(airline: Pipeline) -> None:
    route = respx.post(COMPLETIONS).mock(side_effect=replying("Seattle", states_it=False))
    answer = airline.ask("Which runway did the plane use at Honolulu airport?")
    assert answer.refused and answer.short is None and short_asks(route) == []
    route.side_effect = replying("$18 a share")
    assert airline.ask(PRICE).short == "$18 a share" and len(short_asks(route)) == 1  # an answer on the same service: asked


@respx.mock
def test_short_answers_switched_off_ask_the_model_nothing_more(tmp_path: Path, embedder: CountingEmbedder, airline: Pipeline) -> None:
    (tmp_path / "off").mkdir()
    pipeline = build(server_check(tmp_path / "off", short_answers=False), embedder)
    pipeline.ingest_paths([articles_folder(tmp_path / "off", alaska=ARTICLE)])
    route = respx.post(COMPLETIONS).mock(side_effect=replying("$18 a share"))
    answer = pipeline.ask(PRICE)
    assert not answer.refused and answer.short is None and short_asks(route) == []
    assert airline.ask(PRICE).short == "$18 a share" and len(short_asks(route)) == 1  # switched on (the default): asked


@respx.mock
def test_the_api_gives_the_short_answer_and_the_chat_stream_ends_with_it(airline: Pipeline) -> None:
    from fastapi.testclient import TestClient

    respx.post(COMPLETIONS).mock(side_effect=replying("$18 a share"))
    respx.route(host="testserver").pass_through()
    with TestClient(create_app(airline)) as client:
        body = client.post("/v1/ask", json={"question": PRICE}).json()
        assert body["short_answer"] == "$18 a share" and "$18 a share in cash" in body["answer"]
        streamed = client.post("/v1/chat", json={"messages": [{"role": "user", "content": PRICE}], "stream": True}).text
    final = streamed.split("event: final\ndata: ")[1].split("\n\n")[0]
    assert json.loads(final)["short_answer"] == "$18 a share"


@respx.mock
def test_a_two_part_question_gets_each_parts_short_answer(tmp_path: Path, embedder: CountingEmbedder) -> None:
    pipeline = build(server_check(tmp_path, short_answers=True), embedder)
    pipeline.ingest_paths([articles_folder(tmp_path, alaska=ARTICLE)])
    respx.post(COMPLETIONS).mock(side_effect=replying_by_sentence("hubs", "Seattle and Honolulu", "$18 a share"))
    answer = pipeline.ask("How much a share will Alaska pay for Hawaiian and where will the combined airline have its hubs?")
    assert not answer.refused and answer.short == "$18 a share; Seattle and Honolulu"


@pytest.mark.slow
def test_the_packaged_model_copies_the_seeds_stakes_short_and_right(tmp_path: Path, embedder: CountingEmbedder) -> None:
    default = Settings.model_fields["answer_check"].default  # the tests' environment sets it off
    assert default == "local" and Settings.model_fields["short_answers"].default is True
    pipeline = build(Settings(data_dir=tmp_path / "data", answer_check=default, llm_deadline_s=300), embedder)  # no speed test
    pipeline.ingest_paths([SEEDS])
    ncic = pipeline.ask(NCIC_QUESTION)
    assert not ncic.refused and "60" in ncic.short and "40" not in ncic.short
    dongfeng = pipeline.ask("What stake will Dongfeng Motor hold in the export venture?")
    assert not dongfeng.refused and "40" in dongfeng.short and "60" not in dongfeng.short
    (tmp_path / "other").mkdir()
    champions = build(Settings(data_dir=tmp_path / "other" / "data", answer_check=default, llm_deadline_s=300), embedder)
    champions.ingest_paths([articles_folder(tmp_path / "other", wimbledon=WIMBLEDON)])
    assert champions.ask(CHAMPIONS).short == "£2.35 million"


@pytest.mark.slow
def test_the_packaged_model_copies_a_span_word_for_word_where_it_would_write_it_its_own_way() -> None:
    from rag.generate import Deadline
    from rag.llm_local import LocalGenerator, packaged_model
    from rag.pipeline import CHECK_MODEL
    from rag.short import ShortAnswers

    model = LocalGenerator(packaged_model(Settings().model_dir, CHECK_MODEL), 2, 1024)
    sentence = "Carter, a Democrat, was president from 1977 to 1981."
    # Unconstrained, the model writes "1977-1981", which the sentence does not hold: the answer had no short answer.
    copy = ShortAnswers(model).copied(sentence, "In which years was Carter president?", Deadline(300))
    assert copy is not None and copy.span == "1977 to 1981"
    assert copy.confidence > 0.5  # sure of a span that answers: the answer is not read again
    lead = (
        "PLAINS, Georgia, Dec 29 (NewsWire) - Jimmy Carter, the Georgia peanut farmer who served one term as U.S. president "
        "and later won the Nobel Peace Prize for his humanitarian work, died on Sunday at his home in Plains, the Carter Center said."
    )
    unsure = ShortAnswers(model).copied(lead, "In which year did Carter win the Nobel Peace Prize?", Deadline(300))
    assert unsure is None or unsure.confidence < 0.5  # a sentence that does not say: whatever it copies, it is unsure
