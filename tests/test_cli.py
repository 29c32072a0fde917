import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from rag.cli import app
from tests.conftest import NCIC_QUESTION, SEEDS

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RAG_ANSWERER", "extractive")
    return tmp_path


def test_ingest_ask_list_delete(env: Path) -> None:
    result = runner.invoke(app, ["ingest", str(SEEDS), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["created"], summary["failed"]) == (2, 0)
    again = json.loads(runner.invoke(app, ["ingest", str(SEEDS), "--json"]).stdout)
    assert again["unchanged"] == 2 and again["created"] == 0

    asked = runner.invoke(app, ["ask", NCIC_QUESTION, "--json"])
    assert asked.exit_code == 0
    body = json.loads(asked.stdout)
    assert "60 per cent" in body["answer"] and body["citations"][0]["quote"].startswith("With a registered capital")

    listed = json.loads(runner.invoke(app, ["documents", "list", "--json"]).stdout)
    assert len(listed) == 2
    doc_id = listed[0]["id"]
    assert runner.invoke(app, ["documents", "delete", doc_id]).exit_code == 0
    missing = runner.invoke(app, ["documents", "show", doc_id])
    assert missing.exit_code == 1 and "no document" in missing.output


def test_errors_are_sentences_with_nonzero_exit(env: Path) -> None:
    empty = runner.invoke(app, ["ask", "Anything?"])
    assert empty.exit_code == 1 and "index is empty" in empty.output and "Traceback" not in empty.output
    bad = runner.invoke(app, ["ingest", str(env / "nowhere")])
    assert bad.exit_code == 1 and "no such file" in bad.output


def test_misspelt_setting_fails_loudly(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_TOP_K", "zero")
    result = runner.invoke(app, ["ask", "x"])
    assert result.exit_code == 2 and "RAG_TOP_K" in result.output


def test_eval_refuses_an_unknown_answerer(env: Path) -> None:
    result = runner.invoke(app, ["eval", "--answerer", "oracle"])
    assert result.exit_code == 2 and "--answerer must be extractive, local or openai" in result.output


def test_ingest_leaves_a_current_local_index_for_the_next_start(tmp_path: Path) -> None:
    from rag.store import open_persistent_client
    from rag.store_lock import release_store

    data = tmp_path / "data"
    env = {**os.environ, "RAG_DATA_DIR": str(data)}
    done = subprocess.run([sys.executable, "-m", "rag.cli", "ingest", str(SEEDS)], env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    saved = np.load(data / "news-index.npz")
    meta = json.loads(saved["meta"].tobytes())
    generation = open_persistent_client(data).get_collection("news-generation").get(ids=["generation"], include=["documents"])["documents"][0]
    release_store(data)
    assert meta["generation"] == generation and len(saved["slot_days"]) == len(saved["lengths"]) == saved["vector_columns"].shape[1] > 0
