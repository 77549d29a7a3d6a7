"""Item 12: 20 concurrent clients for 60 s against a real `tanya serve` with the default
embedder, on 127.0.0.1. No 5xx, p95 reported, resident memory not growing; the counts go
to stdout and artifacts/load/summary.json.

The rate limit is off (TANYA_RATE_LIMIT_PER_MINUTE=0: this is one host playing 20 users)
and the concurrency gate admits the 20 clients (TANYA_MAX_CONCURRENT_REQUESTS=20; the
default 16 would answer the 17th simultaneous request with a designed 503)."""

from __future__ import annotations

import json
import os
import statistics
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from assistant.settings import Settings
from eval.bench.stats import rss_mb, summarize
from eval.questionset import load_question_set
from tests.support.live_server import LiveServer

pytestmark = [pytest.mark.integration, pytest.mark.slow]
CLIENTS = 20
SECONDS = float(os.environ.get("TANYA_LOAD_SECONDS", "60"))
SUMMARY = Path(__file__).resolve().parents[2] / "artifacts" / "load" / "summary.json"


def _requests(client: int, i: int, questions: list[str]) -> tuple[str, str, dict[str, Any]]:
    """(route label, path, JSON body) of a client's i-th request: a realistic mix."""
    question = questions[(client * 7 + i) % len(questions)]
    if i % 2:  # half are new wordings: the query cache cannot answer them
        question = f"{question} ({client}-{i})"
    kind = (i + client) % 20  # every kind from the first round on
    if kind < 14:
        return "ask", "/api/ask", {"question": question}
    if kind < 16:
        return "chat", "/v1/chat/completions", {
            "messages": [{"role": "user", "content": question}]}
    if kind < 18:
        return "chat-stream", "/v1/chat/completions", {
            "stream": True, "messages": [{"role": "user", "content": question}]}
    if kind == 18:
        return "readyz", "/readyz", {}
    return "bad", "/api/ask", {"question": ""}  # a 422 among the rest


def _run_in_own_thread(run: Any) -> None:
    """anyio.run in a fresh thread: Playwright's sync API may keep an event loop running
    in this one (the browser fixture is session-wide)."""
    failures: list[BaseException] = []

    def target() -> None:
        try:
            anyio.run(run)
        except BaseException as exc:
            failures.append(exc)

    thread = threading.Thread(target=target, name="load-clients")
    thread.start()
    thread.join(SECONDS + 120)
    assert not thread.is_alive(), "the load clients did not stop"
    if failures:
        raise failures[0]


@pytest.fixture(scope="module")
def e5_load_server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    server = LiveServer(tmp_path_factory.mktemp("load-home"), env={
        "TANYA_RATE_LIMIT_PER_MINUTE": "0",
        "TANYA_MAX_CONCURRENT_REQUESTS": str(CLIENTS)}).start(timeout=240)
    yield server
    server.stop()


def test_twenty_clients_for_a_minute(e5_load_server: LiveServer) -> None:
    questions = [q.question for q in load_question_set("ukraina").questions]
    assert e5_load_server.proc is not None
    pid = e5_load_server.proc.pid
    outcomes: Counter[str] = Counter()
    by_route: dict[str, Counter[str]] = {}
    latencies: dict[str, list[float]] = {}
    rss: list[tuple[float, float]] = []  # (seconds, floor of the readings)
    peak: list[float] = []  # the highest reading of each sample
    started = time.monotonic()
    deadline = started + SECONDS

    async def client(n: int) -> None:
        limits = httpx.Limits(max_connections=1)
        async with httpx.AsyncClient(base_url=e5_load_server.url, timeout=30,
                                     limits=limits) as http:
            i = 0
            while time.monotonic() < deadline:
                route, path, body = _requests(n, i, questions)
                i += 1
                t0 = time.monotonic()
                try:
                    if route == "readyz":
                        response = await http.get(path)
                    elif route == "chat-stream":
                        async with http.stream("POST", path, json=body) as response:
                            lines = [x async for x in response.aiter_lines() if x]
                    else:
                        response = await http.post(path, json=body)
                    outcome = str(response.status_code)
                    if route == "chat-stream" and outcome == "200" and (
                            lines[-1:] != ["data: [DONE]"] or any('"error"' in x for x in lines)):
                        outcome = "broken-stream"
                except httpx.HTTPError as exc:
                    outcome = type(exc).__name__
                outcomes[outcome] += 1
                by_route.setdefault(route, Counter())[outcome] += 1
                latencies.setdefault(route, []).append((time.monotonic() - t0) * 1000)

    async def sample_memory() -> None:
        # Each 2 s sample is the floor of four readings, as in the soak (eval.bench.soak):
        # a leak raises the floor, while what the answers in flight hold (a batch's
        # buffers, model pages mapped while a question is embedded) comes and goes, and
        # swung single readings between about 353 and 380 MB with the reader.
        while time.monotonic() < deadline:
            readings = []
            for _ in range(4):
                readings.append(rss_mb(pid, children=False))
                await anyio.sleep(0.5)
            rss.append((time.monotonic() - started, min(readings)))
            peak.append(max(readings))

    async def run() -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(sample_memory)
            for n in range(CLIENTS):
                group.start_soon(client, n)

    _run_in_own_thread(run)
    elapsed = time.monotonic() - started
    answered = latencies.get("ask", []) + latencies.get("chat", [])
    # The first fifth is warm-up (threads, allocator arenas, the query cache filling);
    # after it, a leak of a few KB per request would show between the next fifth and
    # the last one.
    fifth = max(1, len(rss) // 5)
    early = statistics.median(m for _, m in rss[fifth:2 * fifth])
    late = statistics.median(m for _, m in rss[-fifth:])
    summary = {
        "clients": CLIENTS, "seconds": round(elapsed, 1), "requests": sum(outcomes.values()),
        "throughput_rps": round(sum(outcomes.values()) / elapsed, 1),
        "outcomes": dict(outcomes), "by_route": {k: dict(v) for k, v in by_route.items()},
        "latency_ms": {route: summarize(v, 1) for route, v in latencies.items()},
        "answer_latency_ms": summarize(answered, 1),
        "rss_mb": {"after_warm_up": round(early, 1), "at_end": round(late, 1),
                   "max": round(max(peak), 1),
                   "samples": [[round(t, 1), round(m, 1)] for t, m in rss]},
        "server": {"embedder": "e5-small-q4", "rate_limit_per_minute": 0,
                   "max_concurrent_requests": CLIENTS,
                   "reader": e5_load_server.env.get("TANYA_READER", Settings().reader)},
    }
    SUMMARY.parent.mkdir(parents=True, exist_ok=True)
    SUMMARY.write_text(json.dumps(summary, indent=2) + "\n")
    print("\nload:", json.dumps({k: v for k, v in summary.items() if k != "rss_mb"}, indent=1))
    print("rss_mb:", {k: v for k, v in summary["rss_mb"].items() if k != "samples"})

    server_errors = {k: v for k, v in outcomes.items() if not k.isdigit() or k >= "500"}
    assert server_errors == {}, f"5xx, broken streams or transport errors: {server_errors}"
    assert set(outcomes) <= {"200", "422"}
    assert by_route["bad"] == Counter({"422": by_route["bad"].total()})
    assert summary["requests"] > CLIENTS * 10, "the server kept answering"
    assert late - early < 15, f"RSS grew from {early:.0f} to {late:.0f} MB"
    assert summary["rss_mb"]["max"] < 400
