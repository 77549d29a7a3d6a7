"""BodySizeLimit at the ASGI level: what it reads of a refused body, and when it answers.

Against a real server and real clients: tests/reliability/test_input_limits.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import anyio
import pytest

from assistant import ratelimit
from assistant.ratelimit import DRAIN_MAX_BYTES, DRAIN_MAX_CONCURRENT, BodySizeLimit

LIMIT = 1000
MiB = 1024 * 1024


@dataclass
class Exchange:
    """One request through the middleware: what it read, what it sent, what the app saw."""

    messages: list[dict[str, Any]]
    stall: bool = False  # after the messages: wait forever (else the client disconnects)
    reads: int = 0
    sent: list[dict[str, Any]] = field(default_factory=list)
    app_body: bytes | None = None

    async def receive(self) -> dict[str, Any]:
        self.reads += 1
        if self.messages:
            return self.messages.pop(0)
        if self.stall:
            await anyio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    async def app(self, scope: Any, receive: Any, send: Any) -> None:
        self.app_body = (await receive())["body"]

    @property
    def status(self) -> int | None:
        return next((m["status"] for m in self.sent if m["type"] == "http.response.start"),
                    None)

    def error(self) -> dict[str, str]:
        body = b"".join(m.get("body", b"") for m in self.sent if m["type"] == "http.response.body")
        return dict(json.loads(body)["error"])


def _run(exchange: Exchange, headers: dict[str, str],
         middleware: BodySizeLimit | None = None) -> Exchange:
    middleware = middleware or BodySizeLimit(exchange.app, LIMIT)
    scope = {"type": "http", "method": "POST", "path": "/api/ask", "query_string": b"",
             "headers": [(k.encode(), v.encode()) for k, v in headers.items()]}
    anyio.run(middleware, scope, exchange.receive, exchange.send)
    return exchange


def _pieces(total: int, size: int, end: bool = True) -> list[dict[str, Any]]:
    count = -(-total // size)
    return [{"type": "http.request", "body": b"x" * size,
             "more_body": not (end and i == count - 1)} for i in range(count)]


def test_a_body_within_the_limit_reaches_the_app_whole() -> None:
    exchange = _run(Exchange(_pieces(900, 300)), {"content-length": "900"})
    assert exchange.app_body == b"x" * 900 and exchange.sent == []


def test_a_refused_body_is_read_to_its_end_before_the_413() -> None:
    exchange = _run(Exchange(_pieces(5 * MiB, 64 * 1024)), {"content-length": str(5 * MiB)})
    assert exchange.reads == 80 and exchange.app_body is None
    assert exchange.status == 413
    assert exchange.error() == {"type": "payload_too_large",
                                "message": f"the request body is larger than {LIMIT} bytes"}
    start = next(m for m in exchange.sent if m["type"] == "http.response.start")
    assert (b"connection", b"close") in start["headers"]


@pytest.mark.parametrize("headers", [
    {"content-length": str(DRAIN_MAX_BYTES + 1)},
    {"content-length": str(5 * MiB), "expect": "100-continue"},
])
def test_past_the_bound_or_behind_expect_nothing_is_read(headers: dict[str, str]) -> None:
    exchange = _run(Exchange(_pieces(5 * MiB, MiB)), headers)
    assert exchange.reads == 0 and exchange.status == 413


def test_an_endless_chunked_body_is_read_only_up_to_the_bound() -> None:
    exchange = _run(Exchange(_pieces(40 * MiB, MiB, end=False)), {})
    assert exchange.status == 413
    assert DRAIN_MAX_BYTES // MiB <= exchange.reads <= DRAIN_MAX_BYTES // MiB + 1


def test_a_stalled_body_gets_its_413_after_the_idle_time(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ratelimit, "_DRAIN_IDLE_S", 0.05)
    exchange = _run(Exchange(_pieces(2000, 500, end=False), stall=True),
                    {"content-length": "5000"})
    assert exchange.reads == 5 and exchange.status == 413


def test_a_trickling_body_gets_its_413_after_the_total_time(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ratelimit, "_DRAIN_TOTAL_S", 0.2)

    class Trickle(Exchange):
        async def receive(self) -> dict[str, Any]:
            self.reads += 1
            await anyio.sleep(0.01)  # never idle for long, never done
            return {"type": "http.request", "body": b"x", "more_body": True}

    exchange = _run(Trickle([]), {"content-length": "100000"})
    assert exchange.status == 413 and 2 < exchange.reads < 100


def test_a_client_that_leaves_mid_body_gets_nothing() -> None:
    exchange = _run(Exchange(_pieces(3000, 1000, end=False)), {"content-length": "9000"})
    assert exchange.sent == [] and exchange.app_body is None


def test_too_many_refused_bodies_at_once_are_answered_without_reading() -> None:
    exchange = Exchange(_pieces(5000, 1000))
    middleware = BodySizeLimit(exchange.app, LIMIT)
    middleware.draining = DRAIN_MAX_CONCURRENT
    _run(exchange, {"content-length": "5000"}, middleware)
    assert exchange.reads == 0 and exchange.status == 413
    assert middleware.draining == DRAIN_MAX_CONCURRENT
    # Under the cap, it reads, and gives its place back when done.
    middleware.draining = 0
    again = _run(Exchange(_pieces(5000, 1000)), {"content-length": "5000"}, middleware)
    assert again.reads == 5 and again.status == 413 and middleware.draining == 0
