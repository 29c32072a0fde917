"""Questions asking two things: split into parts, each answered from its own article, or refused as a whole."""

import pytest

from rag.compound import combined, parts_of
from rag.documents import make_article
from rag.pipeline import Pipeline
from rag.types import Answer, Citation


@pytest.mark.parametrize(
    ("question", "parts"),
    [
        ("Which EV models is Nissan betting on in China and in the UK?", ("Which EV models is Nissan betting on in China?", "Which EV models is Nissan betting on in the UK?")),
        ("In which cities are the N7 and the new Leaf built?", ("In which cities are the N7 built?", "In which cities are the new Leaf built?")),
        ("What stake do NCIC and Dongfeng hold?", ("What stake do NCIC hold?", "What stake do Dongfeng hold?")),
        ("How many jobs and factories will the carmaker cut?", ("How many jobs will the carmaker cut?", "How many factories will the carmaker cut?")),
        ("What happened in China and the UK?", ("What happened in China?", "What happened in the UK?")),
    ],
)
def test_a_question_joining_two_things_is_asked_about_each(question: str, parts: tuple[str, str]) -> None:
    assert parts_of(question) == parts


def test_two_questions_in_one_are_split_and_the_second_keeps_the_first_ones_subject() -> None:
    first, second = parts_of("Who leads Nissan and what did he say?")
    assert first == "Who leads Nissan?"
    assert second.startswith("What did he say?") and "Nissan" in second
    # a second question naming its own subject is not sent looking for the first one's too
    assert parts_of("Who is the chief nurse of the Moorfield Trust and who is Voltra's chief executive?")[1] == "Who is Voltra's chief executive?"


@pytest.mark.parametrize(
    "question",
    [
        "What is the venture between Nissan and Dongfeng called?",  # one relation between two names
        "How many ships did the Alpha, Beta and Gamma harbours handle?",  # a list: left whole
        "What did the minister announce?",
        "And what about the price?",
    ],
)
def test_questions_asking_one_thing_are_not_split(question: str) -> None:
    assert parts_of(question) == ()


def _two_factories(pipeline: Pipeline) -> None:
    pipeline.ingest(make_article(id="tram", title="Vela tram enters service", text=(
        "The Vela tram, the city's first low-floor model, entered service on Monday. "
        "It is assembled at the Korsberg plant in Malmo, which employs 900 people. "
        "Fares stay unchanged this year.")))
    pipeline.ingest(make_article(id="ferry", title="Orbit ferry launched", text=(
        "The Orbit electric ferry was launched this week after two years of trials. "
        "The vessel is built at the Hanko shipyard in Turku, the yard's largest order to date. "
        "It will carry 600 passengers between the islands.")))


def test_each_part_is_answered_from_its_own_article_and_cited(pipeline: Pipeline) -> None:
    _two_factories(pipeline)
    whole = "In which cities are the Vela tram and the Orbit ferry built?"
    answer = pipeline.ask(whole)
    assert not answer.refused
    assert "Malmo" in answer.answer and "Turku" in answer.answer
    assert [c.document_id for c in answer.citations] == ["tram", "ferry"]
    assert "[1]" in answer.answer and "[2]" in answer.answer
    assert answer.question == whole
    assert all(pipeline.document(c.document_id).text[c.start : c.end] == c.quote for c in answer.citations)


def test_a_part_the_articles_do_not_answer_is_said_to_be_unanswered_and_the_other_part_answered(pipeline: Pipeline) -> None:
    _two_factories(pipeline)
    answer = pipeline.ask("In which cities are the Vela tram and the Zephyr bus built?")
    assert not answer.refused and "Malmo" in answer.answer
    [missing] = answer.unanswered
    assert "Zephyr bus" in missing and f"The articles don't say in which cities" in answer.answer
    assert [c.document_id for c in answer.citations] == ["tram"]  # nothing is cited for the part not answered
    assert pipeline.ask("In which cities are the Zephyr bus and the Nimbus coach built?").refused  # neither part


def test_parts_answered_by_one_sentence_cite_it_once(pipeline: Pipeline) -> None:
    pipeline.ingest(make_article(id="jv", title="Venture formed", text=(
        "Under the deal, Arlo Motors will hold a 55 per cent stake in the venture and Benning Steel the remaining 45 per cent. "
        "The venture will start production next spring.")))
    answer = pipeline.ask("What stakes will Arlo Motors and Benning Steel hold?")
    assert not answer.refused
    [citation] = answer.citations
    assert "55 per cent" in citation.quote and answer.answer.count("[1]") == 1


def _cited(text: str, *spans: tuple[int, int]) -> Answer:
    citations = tuple(
        Citation(n, "doc", "doc:0", "T", None, None, None, "passage", a, b, f"s{a}", 0.9) for n, (a, b) in enumerate(spans, 1)
    )
    return Answer(text, False, citations)


def test_the_joined_answer_renumbers_citations_and_drops_a_part_that_repeats_one() -> None:
    joined = combined("Q?", [_cited("A [1]", (0, 10)), _cited("B [1]", (20, 30)), _cited("A again [1]", (0, 10))])
    assert joined.answer == "A [1] B [2]" and joined.question == "Q?"
    assert [(c.n, c.start) for c in joined.citations] == [(1, 0), (2, 20)]
