"""The chat page in a real browser (Debian's chromium, headless, driven by playwright) against the real server."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import NCIC_QUESTION, ROOT, SEEDS
from tests.servers import start_rag_serve

pytestmark = pytest.mark.slow
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"]
SHOTS = ROOT / "reports" / "screenshots"
HOSTILE_TITLE = 'Hostile <img src=x onerror="window.__pwned=1"> title'
HOSTILE_TEXT = (
    "The Zorblatt Corporation said on Monday it would open a plant in Springfield. "
    '<script>window.__pwned = 2</script> <img src=x onerror="window.__pwned=3"> '
    "The plant will employ 300 people."
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    env = {"RAG_DATA_DIR": str(tmp_path_factory.mktemp("page") / "data"), "RAG_ANSWERER": "extractive"}
    process, url = start_rag_serve(env, SEEDS)
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: object, server: str) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
    opened = context.new_page()
    opened.goto(server)
    yield opened
    context.close()


@pytest.fixture(scope="module")
def checked_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The service as `make run` starts it: the answer check and short answers on (the packaged 1.5B model)."""
    env = {"RAG_DATA_DIR": str(tmp_path_factory.mktemp("checked") / "data"), "RAG_ANSWERER": "extractive", "RAG_ANSWER_CHECK": "local"}
    process, url = start_rag_serve(env, SEEDS)
    yield url
    process.terminate()
    process.wait(timeout=10)


def ask(page: object, question: str, timeout_ms: int = 30_000) -> object:
    """Type a question, press Enter, and return the last answer bubble once it is final."""
    before = page.locator("li.message.assistant").count()  # type: ignore[attr-defined]
    page.fill("#question", question)  # type: ignore[attr-defined]
    page.press("#question", "Enter")  # type: ignore[attr-defined]
    answer = page.locator("li.message.assistant").nth(before)  # type: ignore[attr-defined]
    answer.and_(page.locator("li.message.assistant:not(.pending)")).wait_for(timeout=timeout_ms)  # type: ignore[attr-defined]
    return answer


def test_the_page_is_served_with_a_strict_content_security_policy(server: str) -> None:
    response = httpx.get(server)
    assert response.status_code == 200 and "text/html" in response.headers["content-type"]
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "<script>" not in response.text and "onclick" not in response.text  # no inline script


def test_an_answer_with_a_citation_chip_that_shows_the_highlighted_sentence(page: object) -> None:
    answer = ask(page, NCIC_QUESTION)
    assert "60 per cent" in answer.inner_text()  # type: ignore[attr-defined]
    chip = answer.locator("button.chip").first  # type: ignore[attr-defined]
    chip.click()
    panel = page.locator("#citation-panel")  # type: ignore[attr-defined]
    panel.wait_for(state="visible")
    assert "remaining 60 per cent" in panel.locator("mark").inner_text()
    assert panel.locator("#citation-title").inner_text().startswith("Nissan")
    page.screenshot(path=str(SHOTS / "answer-1280.png"), full_page=True)  # type: ignore[attr-defined]


def test_the_short_answer_is_shown_above_its_cited_sentence(browser: object, checked_server: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(checked_server)
    answer = ask(page, NCIC_QUESTION, timeout_ms=300_000)  # the model loads at start-up: no speed test on a shared machine
    short = answer.locator(".text > strong.short:first-child")  # type: ignore[attr-defined]  # before the sentence
    assert "60 per cent" in short.inner_text() and "40" not in short.inner_text()
    sentence = answer.locator(".text").inner_text()  # type: ignore[attr-defined]
    assert "remaining 60 per cent" in sentence.removeprefix(short.inner_text())
    assert short.bounding_box()["y"] < answer.locator(".text .chip").first.bounding_box()["y"]  # type: ignore[attr-defined]  # shown above it
    page.screenshot(path=str(SHOTS / "short-answer-1280.png"), full_page=True)
    context.close()


def test_a_question_the_articles_do_not_answer_shows_the_refusal_state(page: object) -> None:
    answer = ask(page, "What is the capital of France?")
    assert "refused" in answer.get_attribute("class")  # type: ignore[attr-defined]
    assert answer.locator(".label").inner_text() == "Not in the articles"  # type: ignore[attr-defined]
    assert answer.locator("button.chip").count() == 0  # type: ignore[attr-defined]


def test_a_follow_up_is_answered_in_the_context_of_the_conversation(page: object) -> None:
    ask(page, NCIC_QUESTION)
    follow_up = ask(page, "And how much is Dongfeng putting in?")
    assert "400 million" in follow_up.inner_text()  # type: ignore[attr-defined]


def test_hostile_markup_in_an_article_is_shown_as_text_and_never_runs(page: object, server: str) -> None:
    page.click("#documents-toggle")  # type: ignore[attr-defined]
    page.click("details.add summary")  # type: ignore[attr-defined]
    page.fill("#doc-title", HOSTILE_TITLE)  # type: ignore[attr-defined]
    page.fill("#doc-text", HOSTILE_TEXT)  # type: ignore[attr-defined]
    page.click("#paste-form button[type=submit]")  # type: ignore[attr-defined]
    listed = page.locator("#documents-list li", has_text="Hostile")  # type: ignore[attr-defined]
    listed.wait_for()
    assert HOSTILE_TITLE in listed.inner_text()
    page.click("#documents-close")  # type: ignore[attr-defined]
    answer = ask(page, "How many people will the Zorblatt plant employ?")
    assert "300" in answer.inner_text()  # type: ignore[attr-defined]
    answer.locator("button.chip").first.click()  # type: ignore[attr-defined]
    page.locator("#citation-panel").wait_for(state="visible")  # type: ignore[attr-defined]
    assert page.locator("#citation-title").inner_text() == HOSTILE_TITLE  # type: ignore[attr-defined]
    assert page.evaluate("window.__pwned") is None  # type: ignore[attr-defined]
    assert page.locator("img").count() == 0  # type: ignore[attr-defined]
    page.once("dialog", lambda dialog: dialog.accept())  # type: ignore[attr-defined]
    page.click("#documents-toggle")  # type: ignore[attr-defined]
    page.locator("#documents-list li", has_text="Hostile").get_by_role("button", name="Delete").click()  # type: ignore[attr-defined]
    page.locator("#documents-status", has_text="Deleted").wait_for()  # type: ignore[attr-defined]
    assert all(d["title"] != HOSTILE_TITLE for d in httpx.get(f"{server}/v1/documents").json()["documents"])
    assert page.evaluate("window.__pwned") is None  # type: ignore[attr-defined]


def test_the_page_at_phone_width(browser: object, server: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})  # type: ignore[attr-defined]
    opened = context.new_page()
    opened.goto(server)
    answer = ask(opened, NCIC_QUESTION)
    assert opened.evaluate("document.documentElement.scrollWidth") <= 390
    opened.screenshot(path=str(SHOTS / "answer-390.png"))
    answer.locator("button.chip").first.click()  # type: ignore[attr-defined]
    opened.locator("#citation-panel mark").wait_for()
    opened.screenshot(path=str(SHOTS / "citation-390.png"))
    context.close()
