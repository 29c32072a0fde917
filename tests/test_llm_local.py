"""The embedded local model (llama.cpp via xllamacpp, the packaged Qwen2.5 0.5B) answering for real."""

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.config import Settings
from rag.errors import ConfigError
from rag.llm_local import PACKAGED_MODELS, file_sha256, packaged_model
from rag.pipeline import Pipeline, build
from tests.conftest import NCIC_QUESTION

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def local(seeded_dir: Path, real_embedder: object) -> Iterator[Pipeline]:
    # A deadline far past the default: these tests check answers and turn-taking, not speed, on a shared CI machine.
    yield build(Settings(data_dir=seeded_dir, answerer="local", llm_deadline_s=300), real_embedder)  # type: ignore[arg-type]


def test_the_local_model_answers_the_stake_question_with_its_citation(local: Pipeline) -> None:
    answer = local.ask(NCIC_QUESTION)
    assert answer.answerer.startswith("local:qwen2.5") and not answer.refused
    assert "60 per cent" in answer.answer and "40 per cent" not in answer.answer.replace("remaining 60", "")
    assert any("remaining 60 per cent" in c.quote for c in answer.citations)


def test_the_local_model_refuses_what_the_articles_do_not_hold(local: Pipeline) -> None:
    answer = local.ask("What is the capital of France?")
    assert answer.refused and answer.citations == ()


def test_concurrent_questions_wait_their_turn(local: Pipeline) -> None:
    answers: list[str] = []
    errors: list[BaseException] = []

    def ask() -> None:
        try:
            answers.append(local.ask("How many jobs will Nissan cut?").answer)
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(answers) == 3 and all("20,000" in a for a in answers)


def test_a_corrupted_model_copy_is_assembled_again_and_checked(tmp_path: Path) -> None:
    model = PACKAGED_MODELS["qwen2.5-coder-0.5b"]
    (tmp_path / model.file).write_bytes(b"not a model")
    path = packaged_model(tmp_path)
    assert file_sha256(path) == model.sha256 and not list(tmp_path.glob("*.part-*"))


def test_a_missing_user_model_fails_with_a_clear_message(seeded_dir: Path, real_embedder: object) -> None:
    with pytest.raises(ConfigError, match="is not a file"):
        build(Settings(data_dir=seeded_dir, answerer="local", local_model=seeded_dir / "nope.gguf"), real_embedder)  # type: ignore[arg-type]


def test_a_schema_constrains_the_local_models_reply_to_json(local: Pipeline) -> None:
    from rag.generate import Deadline
    from rag.reader import REPLY_SCHEMA

    generator = local._answering()._generator  # type: ignore[attr-defined]
    messages = [{"role": "user", "content": "[1] Acme bought Beta for $2 billion.\nQuestion: Who bought Beta? Reply in JSON."}]
    reply = json.loads(generator.complete(messages, 40, Deadline(300), REPLY_SCHEMA))
    assert set(reply) == {"sentence", "answer"} and isinstance(reply["sentence"], int) and isinstance(reply["answer"], str)


def test_the_local_model_tells_how_likely_it_finds_a_sentence_stating_an_answer(local: Pipeline) -> None:
    from rag.check import stated_probability
    from rag.generate import Deadline

    generator = local._answering()._generator  # type: ignore[attr-defined]
    sentence = "Acme agreed on Monday to buy Beta for $2 billion in cash."
    stated = stated_probability(generator, sentence, "Who agreed to buy Beta?", "Acme", Deadline(300))
    unstated = stated_probability(generator, sentence, "How many people work at Beta?", "$2 billion", Deadline(300))
    assert 0.0 < unstated < stated < 1.0  # probabilities, not the bare word
