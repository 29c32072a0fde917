"""Scale-out: a real `chroma run` server shared by two API processes; ingest through one, ask through the other."""

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import NCIC_QUESTION, SEEDS
from tests.servers import ROOT, free_port, start_rag_serve

pytestmark = pytest.mark.slow
ARTICLE = {"title": "Port of Averton sold", "text": "The port of Averton was sold to Zeta Holdings for 12 million euros on Monday. Zeta will invest 3 million euros in new cranes."}


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen([str(ROOT / ".venv" / "bin" / "chroma") if (ROOT / ".venv" / "bin" / "chroma").exists() else "chroma",
                                "run", "--path", str(tmp_path / "chroma"), "--host", "127.0.0.1", "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_two_api_processes_share_one_chroma_server(chroma_server: str, tmp_path: Path) -> None:
    env = {"RAG_CHROMA_URL": chroma_server, "RAG_ANSWERER": "extractive"}
    first, first_url = start_rag_serve({**env, "RAG_DATA_DIR": str(tmp_path / "a")}, SEEDS)
    second, second_url = start_rag_serve({**env, "RAG_DATA_DIR": str(tmp_path / "b")}, SEEDS)  # seeds already there: not re-seeded
    try:
        assert httpx.post(f"{first_url}/v1/documents", json=ARTICLE).status_code == 201
        question = {"question": "How much did Zeta Holdings pay for the port of Averton?"}
        through_first = httpx.post(f"{first_url}/v1/ask", json=question, timeout=30).json()
        through_second = httpx.post(f"{second_url}/v1/ask", json=question, timeout=30).json()
        assert "12 million euros" in through_second["answer"]
        assert through_second["answer"] == through_first["answer"] and through_second["citations"] == through_first["citations"]
        assert "60 per cent" in httpx.post(f"{second_url}/v1/ask", json={"question": NCIC_QUESTION}, timeout=30).json()["answer"]
        listed = {d["title"] for d in httpx.get(f"{second_url}/v1/documents").json()["documents"]}
        assert ARTICLE["title"] in listed and len(listed) == 3
    finally:
        for process in (first, second):
            process.terminate()
            process.wait(timeout=10)


def test_keyword_retrieval_sees_another_processs_writes(chroma_server: str, tmp_path: Path, real_embedder: object) -> None:
    from rag.config import Settings
    from rag.documents import article_from_record
    from rag.pipeline import build
    from rag.types import Filters

    settings = Settings(chroma_url=chroma_server, data_dir=tmp_path / "unused", answerer="extractive", collection="shared-news")
    writer = build(settings, real_embedder)  # type: ignore[arg-type]
    reader = build(settings, real_embedder)  # type: ignore[arg-type]  # its own keyword index, as in another process
    writer.ingest_paths([SEEDS])
    assert reader.retrieve(NCIC_QUESTION)[0].keyword_score > 0  # built after the seeds
    writer.ingest(article_from_record(ARTICLE))
    top = reader.retrieve("Zeta Holdings Averton cranes")[0]
    assert top.document.title == ARTICLE["title"] and top.keyword_score > 0
    # a chunk the reader holds in memory is dropped when another process rewrites it
    only = Filters(document_ids=("averton",))
    writer.ingest(article_from_record({**ARTICLE, "id": "averton"}))
    assert "12 million" in reader.retrieve("Zeta Holdings Averton cranes", filters=only)[0].chunk.text
    writer.ingest(article_from_record({**ARTICLE, "id": "averton", "text": ARTICLE["text"].replace("12 million", "15 million")}))
    assert "15 million" in reader.retrieve("Zeta Holdings Averton cranes", filters=only)[0].chunk.text
