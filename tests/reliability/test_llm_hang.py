"""Item 7 at the edges: with TANYA_LLM set and the model server hanging (or trickling
keep-alives forever), every route ends within the configured timeout with a clear message.

Already proven for the service itself (tests/assistant/test_llm.py::
test_the_timeout_bounds_the_whole_answer) and the CLI's one-line report."""

from __future__ import annotations

import time

import gradio as gr
import pytest
from fastapi.testclient import TestClient

from assistant.api import make_api
from assistant.service import TanyaService
from assistant.ui import respond
from tests.support.fake_openai import FakeLLMServer, Reply

TIMEOUT = 1.0
# Retrieval, thread hops and a loaded 2-core machine; a hang would last the fake
# server's 30 s, so the bound still tells one from the other.
SLACK = 5.0
MESSAGE = "the language model backend did not answer in time; try again"
CHAT = {"messages": [{"role": "user", "content": "Apa tuntutan Kyiv?"}]}


@pytest.fixture
def llm_service(hash_service: TanyaService, fake_llm: FakeLLMServer,
                monkeypatch: pytest.MonkeyPatch) -> TanyaService:
    monkeypatch.setenv("OPENAI_BASE_URL", f"{fake_llm.url}/v1")
    return TanyaService(hash_service.settings.with_(llm="openai:fake", llm_timeout=TIMEOUT),
                        embedder=hash_service.embedder)


@pytest.mark.parametrize("mode", ["hang", "trickle"])
@pytest.mark.parametrize(("path", "body"), [
    ("/api/ask", {"question": "Apa tuntutan Kyiv?"}),
    ("/v1/chat/completions", CHAT),
    ("/v1/chat/completions", {**CHAT, "stream": True}),
])
def test_api_routes_end_within_the_timeout(llm_service: TanyaService, fake_llm: FakeLLMServer,
                                           mode: str, path: str, body: dict[str, object]
                                           ) -> None:
    fake_llm.script(Reply(mode=mode))  # type: ignore[arg-type]
    client = TestClient(make_api(llm_service))
    started = time.monotonic()
    response = client.post(path, json=body)
    elapsed = time.monotonic() - started
    assert TIMEOUT * 0.9 < elapsed < TIMEOUT + SLACK
    assert response.status_code == 504  # a gateway timeout, not a bad gateway
    assert response.json()["error"] == {"message": MESSAGE, "type": "llm_timeout"}


def test_a_stream_that_stalls_midway_ends_with_an_error_event(
        llm_service: TanyaService, fake_llm: FakeLLMServer) -> None:
    fake_llm.script(Reply(["Kyiv menuntut ", "jaminan [1]."], pause_after=1))
    client = TestClient(make_api(llm_service))
    started = time.monotonic()
    response = client.post("/v1/chat/completions", json={**CHAT, "stream": True})
    assert time.monotonic() - started < TIMEOUT + SLACK
    assert response.status_code == 200
    assert "Kyiv menuntut" in response.text
    assert MESSAGE in response.text and response.text.rstrip().endswith("data: [DONE]")


def test_the_chat_window_gives_up_within_the_timeout(llm_service: TanyaService,
                                                     fake_llm: FakeLLMServer) -> None:
    fake_llm.script(Reply(mode="hang"))
    started = time.monotonic()
    with pytest.raises(gr.Error, match="did not answer in time"):
        list(respond(llm_service, "Apa tuntutan Kyiv?", [], []))
    assert time.monotonic() - started < TIMEOUT + SLACK
