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


class HeldModel:
    """A model server that holds every answer until the test releases it, counting the calls it holds."""

    def __init__(self) -> None:
        self.released = threading.Event()
        self.held = 0
        self._lock = threading.Lock()
        self._all_held = threading.Condition(self._lock)

    def answer(self, _: httpx.Request) -> httpx.Response:
        with self._lock:
            self.held += 1
            self._all_held.notify_all()
        self.released.wait(timeout=60)
        with self._lock:
            self.held -= 1
        return httpx.Response(200, json={"choices": [{"index": 0, "message": {"role": "assistant", "content": "NCIC will hold the remaining 60 per cent [1]."}}]})

    def wait_until_holding(self, calls: int, timeout: float) -> bool:
        with self._all_held:
            return self._all_held.wait_for(lambda: self.held >= calls, timeout=timeout)


@pytest.fixture
def held_llm_server(tmp_path: Path, embedder: CountingEmbedder) -> Iterator[tuple[str, HeldModel]]:
    pipeline = build(Settings(data_dir=tmp_path / "data", answerer="openai", openai_base_url="http://llm.test/v1",
                              openai_api_key="sk-x", llm_deadline_s=60), embedder)
    pipeline.ingest_paths([SEEDS])
    model = HeldModel()
    router = respx.mock(assert_all_called=False)
    router.route(host="127.0.0.1").pass_through()
    router.post(LLM).mock(side_effect=model.answer)
    router.start()
    try:
        with app_in_thread(create_app(pipeline)) as url:
            yield url, model
    finally:
        model.released.set()
        router.stop()


def test_health_answers_while_twenty_questions_wait_on_the_model(held_llm_server: tuple[str, HeldModel]) -> None:
    """Every question is parked in the model call; /healthz must still answer (a blocked server times out here)."""
    url, model = held_llm_server

    def ask(_: int) -> int:
        return httpx.post(f"{url}/v1/ask", json={"question": NCIC_QUESTION}, timeout=90).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = pool.map(ask, range(20))
        assert model.wait_until_holding(20, timeout=60), f"only {model.held} of 20 questions reached the model"
        held_during_health = []
        for _ in range(5):
            assert httpx.get(f"{url}/healthz", timeout=10).status_code == 200
            held_during_health.append(model.held)
        model.released.set()
        statuses = list(answers)
    assert held_during_health == [20] * 5
    assert statuses == [200] * 20


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
