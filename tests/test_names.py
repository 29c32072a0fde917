"""Names a question writes otherwise than its article: a nationality for a place ("Japanese" / "Japan's"), an
acronym spelled out ("ETFs" / "exchange-traded funds"), an event's year the article leaves to its date."""

from datetime import date

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


def test_a_company_asked_for_by_nationality_is_found_by_its_country(pipeline: Pipeline) -> None:
    pipeline.ingest(make_article(id="steel", title="Steel deal", text=(
        "Japan's Nippon Steel agreed on Monday to buy Ohio Steel for $14.9 billion in cash. "
        "The deal still needs approval from regulators in Washington.")))
    answer = pipeline.ask("Which Japanese company agreed to buy Ohio Steel?")
    assert not answer.refused and "Nippon Steel" in answer.answer
    assert pipeline.ask("Which Korean company agreed to buy Ohio Steel?").refused  # no article names Korea


def test_a_place_asked_for_by_a_regular_nationality_is_found_by_its_name(pipeline: Pipeline) -> None:
    pipeline.ingest(make_article(id="quake", title="Quake strikes", text=(
        "A strong earthquake struck the High Atlas mountains on Friday. "
        "It was the deadliest earthquake in Morocco since 1960, when a quake near Agadir killed at least 12,000 people.")))
    answer = pipeline.ask("Which Moroccan city was hit by a deadly earthquake in 1960?")
    assert not answer.refused and "Agadir" in answer.answer
    assert pipeline.ask("Which Algerian city was hit by a deadly earthquake in 1960?").refused  # no article names Algeria


def test_a_month_the_question_gives_may_be_the_articles_date(pipeline: Pipeline) -> None:
    pipeline.ingest(make_article(id="vote", title="Lai wins Taiwan vote", published=date(2024, 1, 13), text=(
        "TAIPEI, Jan 13 (NewsWire) - Taiwan's ruling party won a third term on Saturday, with Vice President Lai Ching-te defeating two rivals. "
        "Turnout was about 71.9%.")))
    answer = pipeline.ask("Who won Taiwan's presidential election in January 2024?")
    assert not answer.refused and "Lai Ching-te" in answer.answer
    assert pipeline.ask("Who won Taiwan's presidential election in March 2024?").refused


def test_an_acronym_the_article_spells_out_is_its_name(pipeline: Pipeline) -> None:
    pipeline.ingest(make_article(id="funds", title="Bitcoin funds", text=(
        "Investors put $4.6 billion into the new exchange-traded funds holding bitcoin in their first week of trading. "
        "The funds were approved by the Securities and Exchange Commission on Wednesday.")))
    answer = pipeline.ask("How much did investors put into the bitcoin ETFs in their first week?")
    assert not answer.refused and "$4.6 billion" in answer.answer
    assert pipeline.ask("How much did investors put into the bitcoin SPACs in their first week?").refused


def test_an_events_year_may_be_the_articles_date(pipeline: Pipeline) -> None:
    pipeline.ingest(make_article(id="euro", title="Spain win the Euros", published=date(2024, 7, 14), text=(
        "Spain beat England 2-1 in Berlin on Sunday to win the Euro final and a record fourth European title. "
        "Mikel Oyarzabal scored the winner in the 86th minute.")))
    answer = pipeline.ask("Who scored the winner in the Euro 2024 final?")
    assert not answer.refused and "Oyarzabal" in answer.answer
    assert pipeline.ask("Who scored the winner in the Euro 2020 final?").refused
