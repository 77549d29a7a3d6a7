"""Item 6: the Chroma server is down when `tanya serve` starts, stops mid-session, or
hangs. /readyz answers 503 within 5 s, questions get a clear 503, and the service
recovers by itself when the server is back: no restart of Tanya."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from assistant.api import make_api
from assistant.service import TanyaService
from index.embedders import HashEmbedder
from tests.reliability.processes import UnreadyServer
from tests.support.servers import ChromaServer, chroma_binary, require, wait_until
from tests.support.settings import session_settings

pytestmark = pytest.mark.integration
QUESTION = {"question": "What does Kyiv demand?"}
INDEX = "faults"
# Well past the 4 s readiness timeout on a busy machine, well under the 30 s a hung
# store would cost without it.
FAIL_FAST_S = 10.0


def _timed(http: httpx.Client, method: str, path: str, **kwargs: object
           ) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = http.request(method, path, **kwargs)  # type: ignore[arg-type]
    return response, time.monotonic() - started


def _assert_unavailable(http: httpx.Client, port: int) -> None:
    ready, seconds = _timed(http, "GET", "/readyz")
    assert ready.status_code == 503 and seconds < FAIL_FAST_S, (ready.text, seconds)
    assert ready.json()["error"]["type"] == "store_unavailable"
    asked, seconds = _timed(http, "POST", "/api/ask", json=QUESTION)
    assert asked.status_code == 503 and seconds < FAIL_FAST_S, (asked.text, seconds)
    error = asked.json()["error"]
    assert error == {"type": "store_unavailable",
                     "message": "the document store is unreachable; try again shortly"}
    assert str(port) not in asked.text and str(port) not in ready.text
    assert http.get("/healthz").status_code == 200, "the process itself stays up"


def _all_threads_stopped(pid: int) -> bool:
    tasks = Path(f"/proc/{pid}/task")
    # State is the field after the parenthesised command name: T (stopped) or t (traced).
    return all((task / "stat").read_text().rsplit(")", 1)[1].split()[0] in "Tt"
               for task in tasks.iterdir())


def _assert_recovers(http: httpx.Client) -> None:
    wait_until(lambda: http.get("/readyz").status_code == 200, 20, "recovery")
    answer = http.post("/api/ask", json=QUESTION)
    assert answer.status_code == 200 and answer.json()["citations"]


@pytest.mark.slow
def test_store_down_at_start_then_stopping_and_hanging_mid_session(tmp_path: Path) -> None:
    require(chroma_binary() is not None, "the chroma CLI is not installed")
    chroma = ChromaServer(tmp_path / "chroma-data").start()
    server = None
    try:
        settings = session_settings(home=tmp_path / "builder", chroma_url=chroma.url, index=INDEX,
                            embedder="hash:64")
        TanyaService(settings, embedder=HashEmbedder(64)).build()
        chroma.stop()

        # down at start-up: serve starts anyway and says why it is not ready
        server = UnreadyServer(tmp_path / "serve", env={
            "TANYA_EMBEDDER": "hash:64", "TANYA_CHROMA_URL": chroma.url,
            "TANYA_INDEX": INDEX, "TANYA_RATE_LIMIT_PER_MINUTE": "0"}).start()
        assert "serving anyway" in server.output()
        with httpx.Client(base_url=server.url, timeout=30) as http:
            _assert_unavailable(http, chroma.port)
            chroma.start()
            _assert_recovers(http)

            # stops mid-session
            chroma.stop()
            _assert_unavailable(http, chroma.port)
            chroma.start()
            _assert_recovers(http)

            # hangs mid-session (the process is frozen: connections open, nothing answers)
            assert chroma.proc is not None
            os.kill(chroma.proc.pid, signal.SIGSTOP)
            try:
                # SIGSTOP lands when each thread next runs: on a busy machine a request
                # sent at once can still be answered. Ask once every thread has stopped.
                wait_until(lambda: _all_threads_stopped(chroma.proc.pid), 10, "SIGSTOP")
                ready, seconds = _timed(http, "GET", "/readyz")
                assert ready.status_code == 503 and seconds < FAIL_FAST_S, (ready.text, seconds)
            finally:
                os.kill(chroma.proc.pid, signal.SIGCONT)
            _assert_recovers(http)
    finally:
        if server is not None:
            server.stop()
        chroma.stop()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers: a hung Chroma at start-up."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(listener.getsockname()[1])
    stop.set()
    thread.join(2)
    for conn in accepted:
        conn.close()
    listener.close()


def test_a_store_that_hangs_from_the_start_fails_fast(tanya_home: Path,
                                                      silent_port: int) -> None:
    settings = session_settings(home=tanya_home, chroma_url=f"http://127.0.0.1:{silent_port}",
                        embedder="hash:64", rate_limit_per_minute=0)
    client = TestClient(make_api(TanyaService(settings, embedder=HashEmbedder(64))))
    for method, path in (("GET", "/readyz"), ("POST", "/api/ask")):
        started = time.monotonic()
        response = client.request(method, path, json=QUESTION if method == "POST" else None)
        assert response.status_code == 503 and time.monotonic() - started < FAIL_FAST_S
        assert response.json()["error"]["type"] == "store_unavailable"
