"""Load on a real server (loopback, bounded): slow LLM answers, concurrent ingests, the same article at once."""

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import respx

from api.app import create_app
from rag.config import Settings
from rag.pipeline import build
from tests.conftest import NCIC_QUESTION, SEEDS, CountingEmbedder
from tests.servers import app_in_thread, start_rag_serve

pytestmark = pytest.mark.slow
LLM = "http://llm.test/v1/chat/completions"


@pytest.fixture
def slow_llm_server(tmp_path: Path, embedder: CountingEmbedder) -> Iterator[str]:
    pipeline = build(Settings(data_dir=tmp_path / "data", answerer="openai", openai_base_url="http://llm.test/v1",
                              openai_api_key="sk-x", llm_deadline_s=10), embedder)
    pipeline.ingest_paths([SEEDS])

    def one_second(_: httpx.Request) -> httpx.Response:
        time.sleep(1.0)
        return httpx.Response(200, json={"choices": [{"index": 0, "message": {"role": "assistant", "content": "NCIC will hold the remaining 60 per cent [1]."}}]})

    router = respx.mock(assert_all_called=False)
    router.route(host="127.0.0.1").pass_through()
    router.post(LLM).mock(side_effect=one_second)
    router.start()
    try:
        with app_in_thread(create_app(pipeline)) as url:
            yield url
    finally:
        router.stop()


def test_twenty_concurrent_questions_with_a_one_second_model_and_health_stays_fast(slow_llm_server: str) -> None:
    def ask(_: int) -> int:
        return httpx.post(f"{slow_llm_server}/v1/ask", json={"question": NCIC_QUESTION}, timeout=60).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = pool.map(ask, range(20))
        time.sleep(0.3)
        health_ms = []
        for _ in range(5):
            started = time.perf_counter()
            assert httpx.get(f"{slow_llm_server}/healthz", timeout=5).status_code == 200
            health_ms.append((time.perf_counter() - started) * 1000)
            time.sleep(0.1)
        statuses = list(answers)
    assert set(statuses) <= {200, 429, 503} and statuses.count(200) >= 1
    assert max(health_ms) < 500, health_ms


def test_ingests_during_questions_are_each_stored_once(tmp_path: Path, embedder: CountingEmbedder) -> None:
    pipeline = build(Settings(data_dir=tmp_path / "data", answerer="extractive"), embedder)
    pipeline.ingest_paths([SEEDS])
    articles = [{"id": f"note-{i}", "title": f"Town note {i}", "text": f"The council of Town{i} met on Monday and approved budget item {i}."} for i in range(10)]
    with app_in_thread(create_app(pipeline)) as url:
        with ThreadPoolExecutor(max_workers=8) as pool:
            asks = [pool.submit(httpx.post, f"{url}/v1/ask", json={"question": NCIC_QUESTION}, timeout=60) for _ in range(20)]
            adds = [pool.submit(httpx.post, f"{url}/v1/documents", json=a, timeout=60) for a in articles]
            same = [pool.submit(httpx.post, f"{url}/v1/documents", json={"id": "same", "title": "Same", "text": "One article, posted five times at once."}, timeout=60) for _ in range(5)]
            ask_codes = [f.result().status_code for f in asks]
            add_codes = [f.result().status_code for f in adds]
            same_bodies = [f.result().json() for f in same]
        listed = {d["id"]: d for d in httpx.get(f"{url}/v1/documents").json()["documents"]}
    assert set(ask_codes) == {200} and set(add_codes) == {201}
    assert all(f"note-{i}" in listed for i in range(10)) and len(listed) == 2 + 10 + 1
    assert sorted(b["status"] for b in same_bodies) == ["created", "unchanged", "unchanged", "unchanged", "unchanged"]
    chunk_ids = [c.chunk.id for c in pipeline.document("same").chunks]
    assert chunk_ids == ["same:0"], json.dumps(chunk_ids)


def test_sigterm_mid_request_finishes_the_request_then_exits_cleanly(tmp_path: Path) -> None:
    import signal
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    asked = threading.Event()

    class SlowModel(BaseHTTPRequestHandler):  # a real (tiny) model server on loopback that takes 2 s to answer
        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            self.rfile.read(int(self.headers["content-length"]))
            asked.set()
            time.sleep(2)
            body = json.dumps({"choices": [{"index": 0, "message": {"role": "assistant", "content": "NCIC will hold the remaining 60 per cent [1]."}}]}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    model = ThreadingHTTPServer(("127.0.0.1", 0), SlowModel)
    threading.Thread(target=model.serve_forever, daemon=True).start()
    env = {"RAG_DATA_DIR": str(tmp_path / "data"), "RAG_ANSWERER": "openai", "RAG_OPENAI_API_KEY": "sk-x",
           "RAG_OPENAI_BASE_URL": f"http://127.0.0.1:{model.server_address[1]}/v1"}
    server, url = start_rag_serve(env, SEEDS)
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(httpx.post, f"{url}/v1/ask", json={"question": NCIC_QUESTION}, timeout=30)
            assert asked.wait(timeout=30)  # the request is inside the server, waiting on the model
            server.send_signal(signal.SIGTERM)
            answered = pending.result()
        assert answered.status_code == 200 and "60 per cent" in answered.json()["answer"]
        # uvicorn drains in-flight requests, then re-raises the signal: exit by SIGTERM (or 0), promptly
        assert server.wait(timeout=20) in (0, -signal.SIGTERM)
    finally:
        if server.poll() is None:
            server.kill()
        model.shutdown()
        model.server_close()
