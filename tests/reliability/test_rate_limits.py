"""Item 4 against a real `tanya serve`: a client over its quota gets 429 with Retry-After
on the API and on the chat window's routes alike, while another client is served.

Already proven in-process (tests/assistant/test_api.py): token-bucket refill per client,
and the concurrency bound (a request beyond TANYA_MAX_CONCURRENT_REQUESTS is refused with
503 and Retry-After, not queued)."""

from __future__ import annotations

import time

import pytest

from tests.reliability.conftest import RATE_LIMIT, client_from
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.integration
QUESTION = {"question": "What does Kyiv demand?"}


def test_a_client_over_quota_gets_429_while_others_are_served(
        hostile_server: LiveServer) -> None:
    with client_from(hostile_server, "127.0.0.2") as greedy, \
            client_from(hostile_server, "127.0.0.3") as polite:
        started = time.monotonic()
        statuses = [greedy.post("/api/ask", json=QUESTION).status_code
                    for _ in range(RATE_LIMIT + 5)]
        # The bucket refills while we ask (one token per 60/RATE_LIMIT s): a slow machine
        # is let through a little more, never less than the burst.
        refilled = int((time.monotonic() - started) * RATE_LIMIT / 60) + 1
        assert RATE_LIMIT <= statuses.count(200) <= RATE_LIMIT + refilled, statuses
        limited = greedy.post("/api/ask", json=QUESTION)
        assert limited.status_code == 429
        assert limited.json()["error"]["type"] == "rate_limited"
        assert int(limited.headers["retry-after"]) >= 1
        # the same quota covers the chat window's routes and the OpenAI route
        chat = greedy.post("/v1/chat/completions",
                           json={"messages": [{"role": "user", "content": "Kyiv?"}]})
        window = greedy.post("/gradio_api/call/ask", json={"data": ["Kyiv?", []]})
        join = greedy.post("/gradio_api/queue/join", json={"data": ["Kyiv?"], "fn_index": 0,
                                                             "session_hash": "abc"})
        for response in (chat, window, join):
            assert response.status_code == 429, response.text
            assert response.json()["error"]["type"] == "rate_limited"
        assert greedy.get("/healthz").status_code == 200, "probes are never limited"
        assert greedy.get("/").status_code == 200, "the page itself still loads"

        assert polite.post("/api/ask", json=QUESTION).status_code == 200
        event = polite.post("/gradio_api/call/ask", json={"data": ["Kyiv?", []]}).json()
        result = polite.get(f"/gradio_api/call/ask/{event['event_id']}").text
        assert "event: complete" in result and '"citations"' in result
