"""A real `kill -9` in the middle of an ingest, then the same ingest again: no duplicates, no half article."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.config import Settings
from rag.embed import Embedder
from rag.pipeline import build
from tests.conftest import ROOT

CITIES = ["Lagos", "Oslo", "Lima", "Perth", "Quito", "Hanoi", "Dakar", "Tunis", "Riga", "Minsk"]


def _write_articles(folder: Path, count: int) -> None:
    for i in range(count):
        city = CITIES[i % len(CITIES)]
        sentences = " ".join(f"Officials in {city} said phase {j} of project {i} would cost {i * 10 + j} million." for j in range(12))
        (folder / f"a{i:03d}.txt").write_text(f"Title: Project {i} in {city}\n\n{sentences}\n")


def _wait_for_first_write(database: Path, process: subprocess.Popen[bytes]) -> None:
    """Until the ingest has stored its first batch of chunks (read straight from Chroma's SQLite file; the generation
    stamp every write makes first is not a chunk)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=1) as db:
                if db.execute("SELECT count(*) FROM embeddings WHERE embedding_id != 'generation'").fetchone()[0] > 0:
                    return
        except sqlite3.Error:
            pass  # not created yet, or busy
        time.sleep(0.05)


@pytest.mark.slow
def test_kill_during_ingest_then_rerun_leaves_each_article_once_and_whole(tmp_path: Path, real_embedder: Embedder) -> None:
    articles = tmp_path / "articles"
    articles.mkdir()
    _write_articles(articles, 120)
    data = tmp_path / "data"
    env = {**os.environ, "RAG_DATA_DIR": str(data)}
    process = subprocess.Popen([sys.executable, "-m", "rag.cli", "ingest", str(articles)], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_for_first_write(data / "chroma.sqlite3", process)
    assert process.poll() is None, "the ingest finished before it could be killed: give it more articles"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)

    rerun = subprocess.run([sys.executable, "-m", "rag.cli", "ingest", str(articles), "--json"], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert '"failed": 0' in rerun.stdout and '"unchanged": 0' not in rerun.stdout

    pipeline = build(Settings(data_dir=data), real_embedder)
    documents = pipeline.documents()
    assert len(documents) == 120
    for document in documents:
        view = pipeline.document(document.id)
        assert [c.chunk.index for c in view.chunks] == list(range(document.chunks))
        assert {c.document.content_hash for c in view.chunks} == {document.content_hash}
    assert pipeline.chunk_count() == sum(d.chunks for d in documents)
