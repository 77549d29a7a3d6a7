"""Item 5: whatever fails inside, no response carries a traceback, a path, a host or a key,
and the log (logger "tanya") has the detail. Every edge: the API (plain and streamed),
the OpenAI route, the chat window and its `ask` endpoint.

Already proven: /api/ask hides an unexpected error and a store host
(tests/assistant/test_api.py); LLM errors name the endpoint but not the key in the CLI
(tests/assistant/test_llm.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gradio as gr
import pytest
from fastapi.testclient import TestClient

from assistant.errors import LLMError, LLMTimeoutError, StoreUnavailableError
from assistant.server import create_app
from assistant.service import TanyaService
from assistant.ui import respond

SECRETS = ("/srv/tanya/secret", "sk-live-0123456789", "10.20.30.40", "Traceback", "line ")
FAILURES = {
    "unexpected": RuntimeError("boom in /srv/tanya/secret/store.py line 12, "
                               "key sk-live-0123456789"),
    "store": StoreUnavailableError("the Chroma store is unreachable: http://10.20.30.40:8000 "
                                   "(/srv/tanya/secret)"),
    "llm": LLMError("LLM server at http://10.20.30.40:11434 rejected key sk-live-0123456789"),
    "llm_timeout": LLMTimeoutError("LLM server at http://10.20.30.40:11434 did not finish "
                                   "answering within 30s"),
}
# What the README promises each failure answers with.
STATUS = {"unexpected": 500, "store": 503, "llm": 502, "llm_timeout": 504}
PUBLIC = {"unexpected": "the assistant failed unexpectedly; the details are logged",
          "store": "the document store is unreachable; try again shortly",
          "llm": "the language model backend failed; try again",
          "llm_timeout": "the language model backend did not answer in time; try again"}
CHAT = {"messages": [{"role": "user", "content": "What does Kyiv demand?"}]}


def _failing(exc: Exception, after_delta: bool = False) -> Any:
    def stream(*_: Any, **__: Any) -> Iterator[Any]:
        if after_delta:
            yield "delta", "Menurut artikel: "
        raise exc

    def ask(*_: Any, **__: Any) -> Any:
        raise exc
    return ask, stream


def _assert_clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} leaked: {text[:300]}"


@pytest.fixture
def app_client(hash_service: TanyaService) -> Iterator[TestClient]:
    with TestClient(create_app(hash_service.settings, hash_service),
                    raise_server_exceptions=False) as client:
        yield client


@pytest.mark.parametrize("failure", FAILURES)
def test_no_response_carries_details_and_the_log_does(
        app_client: TestClient, hash_service: TanyaService, failure: str,
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    ask, stream = _failing(FAILURES[failure])
    monkeypatch.setattr(hash_service, "ask", ask)
    monkeypatch.setattr(hash_service, "stream", stream)
    responses = [
        app_client.post("/api/ask", json={"question": "What does Kyiv demand?"}),
        app_client.post("/v1/chat/completions", json=CHAT),
        app_client.post("/v1/chat/completions", json={**CHAT, "stream": True}),
    ]
    for response in responses:
        assert response.status_code == STATUS[failure]
        assert set(response.json()["error"]) == {"message", "type"}
        _assert_clean(response.text)
    event = app_client.post("/gradio_api/call/ask", json={"data": ["Kyiv?", []]}).json()
    window = app_client.get(f"/gradio_api/call/ask/{event['event_id']}").text
    assert "event: error" in window
    assert PUBLIC[failure] in window, window
    _assert_clean(window)
    assert "10.20.30.40" in caplog.text or "sk-live" in caplog.text or "/srv/tanya" in caplog.text


@pytest.mark.parametrize("failure", FAILURES)
def test_a_stream_failing_midway_ends_with_a_clean_error_event(
        app_client: TestClient, hash_service: TanyaService, failure: str,
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(hash_service, "stream", _failing(FAILURES[failure], True)[1])
    response = app_client.post("/v1/chat/completions", json={**CHAT, "stream": True})
    assert response.status_code == 200  # headers were sent before the failure
    assert '"error"' in response.text and response.text.rstrip().endswith("data: [DONE]")
    _assert_clean(response.text)
    assert "/srv/tanya/secret" in caplog.text or "10.20.30.40" in caplog.text


@pytest.mark.parametrize("failure", FAILURES)
def test_the_chat_window_says_what_happened_without_details(
        hash_service: TanyaService, failure: str, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(hash_service, "stream", _failing(FAILURES[failure], True)[1])
    steps = respond(hash_service, "What does Kyiv demand?", [], [])
    with pytest.raises(gr.Error) as raised:
        list(steps)
    assert raised.value.message == PUBLIC[failure]
    _assert_clean(str(raised.value))
    assert "/srv/tanya/secret" in caplog.text or "10.20.30.40" in caplog.text
    if failure == "unexpected":
        assert "Traceback" in caplog.text, "the log keeps the traceback"


def test_unexpected_window_errors_are_not_shown_by_gradio(app_client: TestClient) -> None:
    assert app_client.get("/config").json()["show_error"] is False
