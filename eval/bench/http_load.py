"""``/api/ask`` through real HTTP: ``tanya serve`` as a subprocess on 127.0.0.1.

Requests only ever go to the loopback address, and every loop is bounded in count and
time. The server's per-client rate limit is switched off for the run (all clients share
one address, and the limiter is not what is measured).
"""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx

from assistant.errors import TanyaError
from eval.bench.cold import child_env
from eval.bench.stats import rss_mb, summarize
from eval.questionset import Question

_HOST = "127.0.0.1"
_START_TIMEOUT_S = 180.0


def _client(url: str) -> httpx.Client:
    """A client with TCP_NODELAY, as browsers and curl have: httpx sends a POST's headers
    and body separately, and without it the body can wait ~40 ms for a delayed ACK."""
    nodelay = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
    return httpx.Client(base_url=url, timeout=30,
                        transport=httpx.HTTPTransport(socket_options=nodelay))


class ServerFailedError(TanyaError):
    """The server under benchmark exited, or never got ready."""


class ServeProcess:
    """``tanya serve`` (API and chat window, one process) on a free loopback port, with
    the TANYA_* settings of ``env`` only (default: the rate limit off)."""

    def __init__(self, home: Path, env: dict[str, str] | None = None) -> None:
        self.home = home
        self.env = {"TANYA_RATE_LIMIT_PER_MINUTE": "0"} if env is None else env
        with socket.socket() as sock:
            sock.bind((_HOST, 0))
            self.port = int(sock.getsockname()[1])
        self.url = f"http://{_HOST}:{self.port}"
        self.log = home / f"bench-serve-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> float:
        """Start and wait for ``/readyz``; returns the seconds that took."""
        env = child_env(self.home, self.env)
        started = time.perf_counter()
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "assistant", "serve", "--host", _HOST,
                 "--port", str(self.port)],
                env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + _START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise self.failed("exited while starting")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return time.perf_counter() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise self.failed(f"was not ready within {_START_TIMEOUT_S:.0f}s")

    def failed(self, what: str) -> ServerFailedError:
        """The error to raise, with the end of the server's log (its folder may be a
        temporary one, gone by the time anyone looks)."""
        try:
            tail = self.log.read_text(errors="replace").splitlines()[-12:]
        except OSError:
            tail = []
        return ServerFailedError("\n".join([f"the benchmarked `tanya serve` {what}; the end "
                                             "of its log:", *tail]))

    def rss_mb(self) -> float:
        assert self.proc is not None
        return rss_mb(self.proc.pid)

    def stop(self) -> None:
        if self.proc is not None:
            stop_session(self.proc, grace=20)
        self.proc = None


def stop_session(proc: subprocess.Popen[bytes], grace: float) -> None:
    """Stop a process started with ``start_new_session`` and everything in its group
    (uvicorn workers too): SIGTERM, then SIGKILL after ``grace`` seconds."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def run_http(home: Path, questions: Sequence[Question], alone: int, clients: int,
             seconds: float, max_requests: int) -> dict[str, Any]:
    """Latency alone, then throughput and latency with ``clients`` concurrent clients."""
    server = ServeProcess(home)
    startup = server.start()
    try:
        idle = server.rss_mb()
        pool = _questions(questions)
        with _client(server.url) as client:
            single = [_ask(client, next(pool)) for _ in range(alone)]
        alone_ms = [ms for ms, ok in single if ok]
        burst = _concurrent(server.url, pool, clients, seconds, max_requests)
        # Questions cycle in order: past the first pass, the query-vector cache answers.
        first_pass = max(0, len(questions) - alone)
        burst["repeated_share"] = round(
            max(0, burst["requests"] - first_pass) / max(1, burst["requests"]), 2)
        loaded = server.rss_mb()
    finally:
        server.stop()
    return {"unit": "ms", "startup_s": round(startup, 2),
            "alone": {**summarize(alone_ms), "errors": len(single) - len(alone_ms)},
            "concurrent": burst,
            "rss_mb": {"idle": idle, "after_load": loaded},
            "note": "questions are asked in order, each once before any repeats, so the "
                    "first pass embeds every question; repeats hit the query cache"}


def _questions(questions: Sequence[Question]) -> Iterator[dict[str, Any]]:
    """Request bodies in order, forever (callers take them under their own lock)."""
    return itertools.cycle(
        [{"question": q.question, "history": q.history_dicts()} for q in questions])


def _ask(client: httpx.Client, body: dict[str, Any]) -> tuple[float, bool]:
    started = time.perf_counter()
    try:
        ok = client.post("/api/ask", json=body).status_code == 200
    except httpx.HTTPError:
        ok = False
    return (time.perf_counter() - started) * 1000, ok


def _concurrent(url: str, pool: Iterator[dict[str, Any]], clients: int, seconds: float,
                max_requests: int) -> dict[str, Any]:
    """``clients`` threads asking back to back until the time or request budget runs out."""
    results: list[tuple[float, bool]] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker() -> None:
        with _client(url) as client:
            while time.monotonic() < deadline:
                with lock:
                    if len(results) >= max_requests:
                        return
                    body = next(pool)
                result = _ask(client, body)
                with lock:
                    results.append(result)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 60)
    elapsed = time.perf_counter() - started
    ok = [ms for ms, good in results if good]
    return {"clients": clients, "seconds": round(elapsed, 2), "requests": len(results),
            "errors": len(results) - len(ok), "throughput_rps": round(len(ok) / elapsed, 2),
            **summarize(ok)}
