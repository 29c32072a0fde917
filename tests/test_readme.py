"""The README cannot rot: its blocks marked `<!-- runnable -->` run against a live `rag serve` on the seeds (the
curl call and the OpenAI client), and every `rag` command and option its command-line block shows exists."""

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import ROOT, start_rag_serve

pytestmark = pytest.mark.slow
README = ROOT / "README.md"
RUNNABLE = re.compile(r"<!-- runnable -->\n```(\w+)\n(.*?)```", re.S)


def runnable_blocks(language: str) -> list[str]:
    return [body for lang, body in RUNNABLE.findall(README.read_text(encoding="utf-8")) if lang == language]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("readme") / "data"
    process, url = start_rag_serve({"RAG_DATA_DIR": str(data)}, ROOT / "seeds")
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_the_readme_marks_its_examples_runnable() -> None:
    assert len(runnable_blocks("sh")) == 2 and len(runnable_blocks("python")) == 1


def test_the_curl_example_answers_the_ncic_question(server: str) -> None:
    [curl] = [b for b in runnable_blocks("sh") if b.startswith("curl")]
    done = subprocess.run(["bash", "-c", curl.replace("localhost:8000", server)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert "60 per cent" in body["answer"] and not body["refused"] and body["citations"][0]["quote"]


def test_the_openai_client_example_prints_the_answer_and_its_quote(server: str) -> None:
    [script] = runnable_blocks("python")
    done = subprocess.run([sys.executable, "-c", script.replace("http://127.0.0.1:8000", server)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "60 per cent" in done.stdout


def test_every_command_and_option_the_command_line_block_shows_exists() -> None:
    [block] = [b for b in runnable_blocks("sh") if b.startswith(".venv/bin/rag")]
    commands = [line.split("#")[0] for line in block.splitlines() if line.startswith(".venv/bin/rag")]
    assert len(commands) == 5
    for line in commands:
        words = line.split()[1:]
        subcommands = words[1].split("|") if words[0] == "documents" else [None]
        for sub in subcommands:
            args = [words[0], sub] if sub else [words[0]]
            done = subprocess.run([sys.executable, "-m", "rag.cli", *args, "--help"], capture_output=True, text=True, timeout=60, cwd=ROOT)
            assert done.returncode == 0, f"rag {' '.join(args)}: {done.stderr}"
            shown = set(re.findall(r"--[a-z-]+", line if words[0] != "eval" else block.split(".venv/bin/rag eval")[1]))
            missing = {option for option in shown if option not in done.stdout}
            assert not missing, f"rag {' '.join(args)} has no {missing}"
