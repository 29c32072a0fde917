"""Names a question writes otherwise than its article: a nationality for a place ("Japanese" / "Japan's"), an
acronym spelled out ("ETFs" / "exchange-traded funds"), an event's year or month the article leaves to its date."""

from datetime import date

import pytest

from rag.documents import make_article
from rag.names import name_forms, spells_out
from rag.pipeline import Pipeline


def anything(word: str) -> bool:
    return True


def test_a_nationality_and_its_place_are_one_name() -> None:
    assert "japan" in name_forms("japanese", anything) and name_forms("japan", {"japan"}.__contains__) == ("japan",)
    assert {"united states", "u.s."} <= set(name_forms("american", anything))
    assert name_forms("nissan", {"nissan", "nissans"}.__contains__) == ("nissan",)


def test_a_regular_nationality_names_its_place_by_its_stem_when_the_articles_use_it() -> None:
    assert "morocco" in name_forms("moroccan", anything) and "taiwan" in name_forms("taiwanese", anything)
    assert "mongolia" in name_forms("mongolian", anything) and "nepal" in name_forms("nepali", anything)
    assert "cuba" in name_forms("cuban", anything)
    assert name_forms("moroccan", {"morocco"}.__contains__) == ("moroccan", "morocco")
    assert name_forms("japan", {"japan", "japanese"}.__contains__) == ("japan",)  # no "japa" the articles never use
    assert name_forms("swiss", anything) == ("swiss", "switzerland")  # an irregular one, as listed


def test_an_acronym_is_spelled_out_by_the_initials_of_as_many_words() -> None:
    assert spells_out("etfs", "inflows into exchange-traded funds rose")
    assert spells_out("ipo", "its initial public offering was priced")
    assert spells_out("boj", "the bank of japan kept rates")
    assert not spells_out("etfs", "electric trucks rose")
    assert not spells_out("ipo", "an initial offering")


def test_an_acronym_may_leave_out_the_linking_words() -> None:
    assert spells_out("fda", "approval from the u.s. food and drug administration in may")
    assert spells_out("fbi", "the federal bureau of investigation said")
    assert spells_out("sec", "the securities and exchange commission sued")
    assert not spells_out("fda", "food prices and drinks")
    assert not spells_out("fbi", "the federal bureau said")


# Each: an article (its date, its text), a question naming what it writes otherwise, the words the answer must hold,
# and a question naming what no article writes, which must be refused.
WRITTEN_OTHERWISE = [
    pytest.param(None, (
        "Japan's Nippon Steel agreed on Monday to buy Ohio Steel for $14.9 billion in cash. "
        "The deal still needs approval from regulators in Washington."),
        "Which Japanese company agreed to buy Ohio Steel?", "Nippon Steel",
        "Which Korean company agreed to buy Ohio Steel?", id="listed nationality"),
    pytest.param(None, (
        "A strong earthquake struck the High Atlas mountains on Friday. "
        "It was the deadliest earthquake in Morocco since 1960, when a quake near Agadir killed at least 12,000 people."),
        "Which Moroccan city was hit by a deadly earthquake in 1960?", "Agadir",
        "Which Algerian city was hit by a deadly earthquake in 1960?", id="regular nationality"),
    pytest.param(date(2024, 1, 13), (
        "TAIPEI, Jan 13 (NewsWire) - Taiwan's ruling party won a third term on Saturday, with Vice President Lai Ching-te defeating two rivals. "
        "Turnout was about 71.9%."),
        "Who won Taiwan's presidential election in January 2024?", "Lai Ching-te",
        "Who won Taiwan's presidential election in March 2024?", id="the article's month"),
    pytest.param(None, (
        "Investors put $4.6 billion into the new exchange-traded funds holding bitcoin in their first week of trading. "
        "The funds were approved by the Securities and Exchange Commission on Wednesday."),
        "How much did investors put into the bitcoin ETFs in their first week?", "$4.6 billion",
        "How much did investors put into the bitcoin SPACs in their first week?", id="acronym spelled out"),
    pytest.param(date(2024, 7, 14), (
        "Spain beat England 2-1 in Berlin on Sunday to win the Euro final and a record fourth European title. "
        "Mikel Oyarzabal scored the winner in the 86th minute."),
        "Who scored the winner in the Euro 2024 final?", "Oyarzabal",
        "Who scored the winner in the Euro 2020 final?", id="the article's year"),
]


@pytest.mark.parametrize(("published", "text", "question", "expected", "unwritten"), WRITTEN_OTHERWISE)
def test_a_name_the_question_writes_otherwise_is_found_and_one_no_article_writes_is_refused(
    pipeline: Pipeline, published: date | None, text: str, question: str, expected: str, unwritten: str
) -> None:
    pipeline.ingest(make_article(id="story", title="Story", published=published, text=text))
    answer = pipeline.ask(question)
    assert not answer.refused and expected in answer.answer
    assert pipeline.ask(unwritten).refused
