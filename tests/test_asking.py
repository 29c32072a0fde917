"""Questions as people write them: a lead-in, context, a date, time words, lower case, trailing spaces."""

from datetime import date

import pytest

from rag.asking import read_question, split_sentences
from rag.documents import make_article
from rag.pipeline import Pipeline
from tests.conftest import NCIC_QUESTION


@pytest.mark.parametrize(
    ("message", "ask", "context", "day"),
    [
        ("Today is June 16, 2022. Which airline agreed to buy Spirit?", "Which airline agreed to buy Spirit?", "", date(2022, 6, 16)),
        ("Today is Thursday, 16 June 2022. Who won?", "Who won?", "", date(2022, 6, 16)),
        ("It's 2022-06-16. who won the final", "who won the final", "", date(2022, 6, 16)),
        ("Police arrested 31 men this week in Idaho. Where was the event?", "Where was the event?", "Police arrested 31 men this week in Idaho.", None),
        ("Which crypto lender froze withdrawals this week?", "Which crypto lender froze withdrawals?", "", None),
        ("The U.S. Fed met on Jan. 5 in Washington. What did it decide?", "What did it decide?", "The U.S. Fed met on Jan. 5 in Washington.", None),
        ("Who leads Nissan? Thanks!", "Who leads Nissan?", "Thanks!", None),
        ("What happened today?", "What happened?", "", None),
        ("Which novel by this year's Nobel winner won the Booker?", "Which novel by the Nobel winner won the Booker?", "", None),
    ],
)
def test_the_question_is_found_inside_what_people_write(message: str, ask: str, context: str, day: date | None) -> None:
    asked = read_question(message)
    assert (asked.ask, asked.context, asked.asked_on) == (ask, context, day)


def test_initials_and_abbreviations_end_no_sentence() -> None:
    assert split_sentences("Mr. Smith of the U.S. Fed spoke on Jan. 5. Then what?") == ["Mr. Smith of the U.S. Fed spoke on Jan. 5.", "Then what?"]


@pytest.mark.parametrize(
    "written",
    [
        f"Today is June 27, 2025. {NCIC_QUESTION}",
        "Nissan and Dongfeng set up an export venture. What stake will NCIC hold in it?",
        "what stake will ncic hold in the export venture   ",
        f"{NCIC_QUESTION} Thank you.",
    ],
)
def test_ncic_holds_60_per_cent_however_the_question_is_written(seeded: Pipeline, written: str) -> None:
    answer = seeded.ask(written)
    assert not answer.refused
    assert "60 per cent" in answer.answer and "40 per cent" not in answer.answer


def test_a_stated_date_puts_that_days_news_first_without_excluding_older_news(pipeline: Pipeline) -> None:
    for day, points in (("2022-05-05", "50"), ("2022-06-16", "75"), ("2022-07-28", "100")):
        pipeline.ingest(make_article(
            id=f"fed-{day}", title="Fed raises interest rates", published=day,
            text=f"The Federal Reserve raised its benchmark interest rate by {points} basis points on Wednesday to fight inflation.",
        ))
    asked_in_june = pipeline.ask("Today is June 17, 2022. By how much did the Federal Reserve raise its benchmark interest rate?")
    assert "75 basis points" in asked_in_june.answer
    assert asked_in_june.citations[0].document_id == "fed-2022-06-16"
    asked_in_may = pipeline.ask("Today is May 6, 2022. By how much did the Federal Reserve raise its benchmark interest rate?")
    assert "50 basis points" in asked_in_may.answer
    before_any = pipeline.ask("Today is January 3, 2022. By how much did the Federal Reserve raise its benchmark interest rate?")
    assert not before_any.refused  # a date orders the articles; it never hides them


def test_a_question_written_with_capitals_keeps_its_lower_case_words() -> None:
    from rag.asking import restore_case

    texts = ["Cargo at the Port of Rotterdam fell.", "It said NCIC would invest."]
    assert restore_case("Who is the port's chief executive?", texts) == "Who is the port's chief executive?"
    assert restore_case("what will ncic invest in the port", texts) == "What will NCIC invest in the Port"
