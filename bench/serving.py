"""Measure a real `rag serve` process: start to first answer, warm latency, concurrent clients, memory."""

import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


def percentiles(samples: list[float]) -> tuple[float, float]:
    """(p50, p95) of the samples."""
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def timed_ms(call: Callable[[int], object], count: int) -> list[float]:
    """Milliseconds each of `count` calls took (the call gets its index, to vary the question)."""
    samples = []
    for i in range(count):
        started = time.perf_counter()
        call(i)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A running `rag serve` and how long it took to answer its first question."""

    process: subprocess.Popen[bytes]
    client: httpx.Client
    first_answer_s: float | None

    def memory_mb(self) -> tuple[float, float]:
        """(current RSS, peak RSS) of the server process, in MB."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return _status_kb(status, "VmRSS:") / 1024, _status_kb(status, "VmHWM:") / 1024


def _status_kb(status: str, key: str) -> int:
    return int(status.split(key)[1].split()[0])


@contextmanager
def serve(data_dir: Path, first_question: str, timeout_s: float = 600) -> Iterator[Server]:
    """Start `rag serve` (extractive answers, the answer check off: the bench times retrieval and serving, the
    evaluation the check) on `data_dir`; yield once it answered `first_question`."""
    port = free_port()
    env = {**os.environ, "RAG_DATA_DIR": str(data_dir), "RAG_ANSWERER": "extractive", "RAG_ANSWER_CHECK": "off"}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "rag.cli", "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            first = None
            deadline = time.perf_counter() + timeout_s
            while first is None and time.perf_counter() < deadline and process.poll() is None:
                try:
                    if client.post("/v1/ask", json={"question": first_question}).status_code == 200:
                        first = time.perf_counter() - started
                except httpx.TransportError:
                    time.sleep(0.05)
            yield Server(process, client, first)
    finally:
        process.terminate()
        process.wait(timeout=30)


def http_latencies(client: httpx.Client, questions: list[str], count: int) -> list[float]:
    """Milliseconds of `count` sequential /v1/ask calls over the questions."""
    return timed_ms(lambda i: client.post("/v1/ask", json={"question": questions[i % len(questions)]}).raise_for_status(), count)


def concurrent_clients(base_url: str, questions: list[str], clients: int, per_client: int) -> tuple[float, float, int]:
    """`clients` threads each asking `per_client` distinct questions at once: (answers/s, p95 ms, failures)."""
    samples: list[float] = []
    failures = 0
    lock = threading.Lock()

    def one_client(number: int) -> None:
        nonlocal failures
        with httpx.Client(base_url=base_url, timeout=120) as client:
            for j in range(per_client):
                question = questions[(number * per_client + j) % len(questions)]
                started = time.perf_counter()
                ok = client.post("/v1/ask", json={"question": question}).status_code == 200
                with lock:
                    samples.append((time.perf_counter() - started) * 1000)
                    failures += not ok

    threads = [threading.Thread(target=one_client, args=(n,)) for n in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=900)
    elapsed = time.perf_counter() - started
    return len(samples) / elapsed, percentiles(samples)[1], failures


def disk_mb(folder: Path) -> float:
    """Bytes under a folder, in MB."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6
