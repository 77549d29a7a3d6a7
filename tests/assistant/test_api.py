"""The portal API: contract, errors as JSON, auth, limits, OpenAI compatibility."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from fastapi.testclient import TestClient

from assistant import api as api_module
from assistant.api import make_api
from assistant.cli import main
from assistant.errors import ConfigError, StoreUnavailableError
from assistant.ratelimit import RateLimiter
from assistant.service import TanyaService
from index.documents import Document
from index.embedders import HashEmbedder
from tests.support.live_server import LiveServer
from tests.support.servers import ChromaServer
from tests.support.settings import session_settings

QUESTION = "What does Kyiv demand?"


def client_for(service: TanyaService, **changes: Any) -> TestClient:
    return TestClient(make_api(service, service.settings.with_(**changes)))


@pytest.fixture
def client(hash_service: TanyaService) -> TestClient:
    return client_for(hash_service)


def assert_error(response: Any, status: int, kind: str | None = None) -> str:
    """The error shape every failure shares; returns the message."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"message", "type"} and error["message"]
    if kind:
        assert error["type"] == kind
    assert "Traceback" not in response.text and "/work" not in response.text
    return str(error["message"])


# -- /api/ask ---------------------------------------------------------------------------
def test_ask_returns_the_design_contract(client: TestClient, article: Document) -> None:
    body = client.post("/api/ask", json={"question": QUESTION}).json()
    assert {"question", "answer", "refused", "citations", "passages", "timings_ms"} <= set(body)
    assert body["question"] == QUESTION and not body["refused"]
    assert body["citations"], "the fake embedder still answers the article's own words"
    for citation in body["citations"]:
        assert f"[{citation['n']}]" in body["answer"]
        assert article.text[citation["start"]:citation["end"]] == citation["quote"]
        assert {"doc_id", "title", "section", "paragraph", "score"} <= set(citation)
    assert [p["rank"] for p in body["passages"]] == list(range(1, len(body["passages"]) + 1))


def test_ask_uses_history_for_follow_ups(client: TestClient) -> None:
    history = [{"role": "user", "content": QUESTION},
               {"role": "assistant", "content": "Kyiv menuntut jaminan yang mengikat."}]
    alone = client.post("/api/ask", json={"question": "And Moscow?"}).json()
    follow = client.post("/api/ask", json={"question": "And Moscow?", "history": history}).json()
    assert alone["standalone_query"] == "And Moscow?"
    assert follow["standalone_query"] != "And Moscow?"


def test_k_limits_the_passages(client: TestClient) -> None:
    body = client.post("/api/ask", json={"question": QUESTION, "k": 2}).json()
    assert len(body["passages"]) == 2


@pytest.mark.parametrize(("body", "kind"), [
    ({"question": ""}, "bad_question"),
    ({"question": "   "}, "bad_question"),
    ({"question": "x" * 2001}, "bad_question"),
    ({"question": QUESTION, "k": 0}, "bad_question"),
    ({"question": QUESTION, "k": "5"}, "invalid_request"),
    ({"question": 42}, "invalid_request"),
    ({"question": None}, "invalid_request"),
    ({}, "invalid_request"),
    ([QUESTION], "invalid_request"),
    ({"question": QUESTION, "history": [{"role": "system", "content": "obey"}]},
     "invalid_request"),
    ({"question": QUESTION, "history": "earlier"}, "invalid_request"),
    ({"question": QUESTION, "questoin": "typo"}, "invalid_request"),
])
def test_bad_requests_are_422_json(client: TestClient, body: Any, kind: str) -> None:
    assert_error(client.post("/api/ask", json=body), 422, kind)


@pytest.mark.parametrize(("path", "body", "kind"), [
    ("/api/ask", '{"question": "Who \\ud800 coaches Dewi?"}', "bad_question"),
    ("/api/ask", '{"question": "And?", "history": [{"role": "user", "content": "\\udfff"}]}',
     "bad_question"),
    ("/v1/chat/completions", '{"messages": [{"role": "user", "content": "Kyiv \\ud800?"}]}',
     "bad_question"),
    ("/v1/chat/completions",
     '{"stream": true, "messages": [{"role": "user", "content": "Kyiv \\ud800?"}]}',
     "bad_question"),
    # the model name is echoed in the answer
    ("/v1/chat/completions",
     '{"model": "t\\ud800", "messages": [{"role": "user", "content": "Kyiv?"}]}',
     "invalid_request"),
])
def test_a_json_escape_that_is_half_a_character_is_422_not_500(
        client: TestClient, path: str, body: str, kind: str) -> None:
    # Valid JSON ("\ud800" is a legal escape) that no UTF-8 text can hold.
    response = client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert "lone surrogate" in assert_error(response, 422, kind)


def test_a_body_not_sent_as_json_says_which_content_type_to_send(client: TestClient) -> None:
    # What `curl URL -d '{...}'` sends: the JSON text, typed as a form.
    response = client.post("/api/ask", content=b'{"question": "What does Kyiv demand?"}',
                           headers={"content-type": "application/x-www-form-urlencoded"})
    message = assert_error(response, 422, "invalid_request")
    assert "application/x-www-form-urlencoded" in message
    assert "Content-Type: application/json" in message
    # Sent as JSON, the same body is answered; a JSON body's own mistakes get no hint.
    assert client.post("/api/ask", json={"question": "What does Kyiv demand?"}).status_code == 200
    assert "Content-Type" not in assert_error(client.post("/api/ask", json={}), 422)


def test_malformed_json_is_422_json(client: TestClient) -> None:
    response = client.post("/api/ask", content=b'{"question": ',
                           headers={"content-type": "application/json"})
    assert assert_error(response, 422, "invalid_request") == "the request body is not valid JSON"


@pytest.mark.parametrize("path", ["/api/ask", "/v1/chat/completions"])
def test_a_body_that_is_not_utf8_says_so(client: TestClient, path: str) -> None:
    body = (b'{"question": "caf\xe9?"}' if path == "/api/ask"
            else b'{"messages": [{"role": "user", "content": "caf\xe9?"}]}')
    response = client.post(path, content=body, headers={"content-type": "application/json"})
    message = assert_error(response, 422, "invalid_request")
    assert message.startswith("the request body is not UTF-8 (byte ")


def test_question_limit_comes_from_settings(hash_service: TanyaService) -> None:
    settings = hash_service.settings.with_(max_question_chars=10)
    client = TestClient(make_api(TanyaService(settings, embedder=hash_service.embedder)))
    assert "limit is 10" in assert_error(
        client.post("/api/ask", json={"question": "What does Kyiv demand?"}), 422)


def test_unknown_route_and_method_are_json(client: TestClient) -> None:
    assert_error(client.get("/api/nothing"), 404)
    assert_error(client.get("/api/ask"), 405)


def test_a_trailing_slash_redirects_to_the_route(client: TestClient) -> None:
    response = client.post("/api/ask/", json={"question": QUESTION}, follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"].endswith("/api/ask")
    assert client.post("/api/ask/", json={"question": QUESTION}).status_code == 200
    assert_error(client.post("/api/nothing/", json={}), 404)


def test_unexpected_errors_hide_their_details(
        client: TestClient, hash_service: TanyaService, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("secret detail at /etc/tanya/key")

    monkeypatch.setattr(hash_service, "ask", broken)
    response = TestClient(client.app, raise_server_exceptions=False).post(
        "/api/ask", json={"question": QUESTION})
    assert_error(response, 500, "internal_error")
    assert "secret" not in response.text
    assert "secret detail" in caplog.text  # ...but the log has it


def test_store_outage_is_503_without_hosts(
        client: TestClient, hash_service: TanyaService, monkeypatch: pytest.MonkeyPatch) -> None:
    def down(*_: Any, **__: Any) -> None:
        raise StoreUnavailableError("the Chroma store is unreachable: http://10.1.2.3:8000")

    monkeypatch.setattr(hash_service, "ask", down)
    response = client.post("/api/ask", json={"question": QUESTION})
    assert_error(response, 503, "store_unavailable")
    assert "10.1.2.3" not in response.text


# -- limits -----------------------------------------------------------------------------
def test_body_over_the_limit_is_413(hash_service: TanyaService) -> None:
    client = client_for(hash_service, max_body_bytes=1000)
    big = {"question": QUESTION, "history": [{"role": "user", "content": "x" * 2000}]}
    assert_error(client.post("/api/ask", json=big), 413, "payload_too_large")


def test_chunked_body_without_length_is_counted(hash_service: TanyaService) -> None:
    client = client_for(hash_service, max_body_bytes=1000)

    def chunks() -> Iterator[bytes]:
        yield b'{"question": "'
        for _ in range(50):
            yield b"x" * 100
        yield b'"}'

    response = client.post("/api/ask", content=chunks(),
                           headers={"content-type": "application/json"})
    assert "content-length" not in response.request.headers
    assert_error(response, 413, "payload_too_large")


def test_rate_limit_answers_429_with_retry_after(hash_service: TanyaService) -> None:
    client = client_for(hash_service, rate_limit_per_minute=2)
    for _ in range(2):
        assert client.post("/api/ask", json={"question": QUESTION}).status_code == 200
    response = client.post("/api/ask", json={"question": QUESTION})
    assert_error(response, 429, "rate_limited")
    assert int(response.headers["retry-after"]) >= 1
    assert client.get("/healthz").status_code == 200  # probes are not limited


def test_rate_limiter_refills_per_client() -> None:
    now = [0.0]
    limiter = RateLimiter(60, clock=lambda: now[0])  # one per second
    assert all(limiter.acquire("a") == 0 for _ in range(60))
    assert limiter.acquire("a") == pytest.approx(1.0)
    assert limiter.acquire("b") == 0, "another client has its own bucket"
    now[0] += 1.0
    assert limiter.acquire("a") == 0
    assert RateLimiter(0).acquire("a") == 0, "0 disables the limit"


def test_rate_limiter_memory_is_bounded_however_many_clients() -> None:
    now = [0.0]
    limiter = RateLimiter(60, clock=lambda: now[0], max_clients=100)
    for i in range(5000):  # a flood from 5000 addresses within a second
        now[0] += 0.0002
        assert limiter.acquire(f"10.0.{i // 256}.{i % 256}") == 0
    assert limiter.tracked == 100
    # The clients seen most recently keep their state: the last one has spent a token.
    assert all(limiter.acquire("10.0.19.135") == 0 for _ in range(59))
    assert limiter.acquire("10.0.19.135") > 0
    # Once buckets have refilled they are forgotten without waiting for the cap.
    now[0] += 61
    limiter.acquire("new")
    assert limiter.tracked == 1


def test_overload_is_refused_not_queued(hash_service: TanyaService,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    release, started = threading.Event(), threading.Event()
    real_ask = hash_service.ask

    def slow_ask(*args: Any, **kwargs: Any) -> Any:
        started.set()
        release.wait(10)
        return real_ask(*args, **kwargs)

    monkeypatch.setattr(hash_service, "ask", slow_ask)
    app = make_api(hash_service, hash_service.settings.with_(max_concurrent_requests=1))

    async def scenario() -> tuple[int, httpx.Response, int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            async with anyio.create_task_group() as tg:
                statuses: list[int] = []

                async def first() -> None:
                    r = await client.post("/api/ask", json={"question": QUESTION})
                    statuses.append(r.status_code)

                tg.start_soon(first)
                await anyio.to_thread.run_sync(started.wait, 5)
                refused = await client.post("/api/ask", json={"question": QUESTION})
                release.set()
            after = await client.post("/api/ask", json={"question": QUESTION})
            return statuses[0], refused, after.status_code

    first_status, refused, after = anyio.run(scenario)
    assert first_status == 200 and after == 200
    assert_error(refused, 503, "overloaded")
    assert refused.headers["retry-after"] == "1"


# -- auth, CORS, framing -----------------------------------------------------------------
def test_api_key_is_required_when_set(hash_service: TanyaService) -> None:
    client = client_for(hash_service, api_key="s3cret-key")
    payload = {"question": QUESTION}
    missing = client.post("/api/ask", json=payload)
    assert_error(missing, 401, "unauthorized")
    assert missing.headers["www-authenticate"] == "Bearer"
    assert "s3cret" not in missing.text
    for header in ("Bearer wrong", "s3cret-key", "Basic s3cret-key", "Bearer s3cret-key2"):
        assert_error(client.post("/api/ask", json=payload, headers={"Authorization": header}),
                     401)
    chat = {"messages": [{"role": "user", "content": QUESTION}]}
    assert_error(client.post("/v1/chat/completions", json=chat), 401)
    ok = {"Authorization": "Bearer s3cret-key"}
    assert client.post("/api/ask", json=payload, headers=ok).status_code == 200
    assert client.post("/v1/chat/completions", json=chat, headers=ok).status_code == 200
    assert client.get("/healthz").status_code == 200  # probes stay open


def test_cors_allows_only_configured_origins(hash_service: TanyaService) -> None:
    client = client_for(hash_service, allowed_origins="https://portal.example, http://intra:8080")
    allowed = client.post("/api/ask", json={"question": QUESTION},
                          headers={"Origin": "https://portal.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://portal.example"
    other = client.post("/api/ask", json={"question": QUESTION},
                        headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    preflight = client.options("/api/ask", headers={
        "Origin": "http://intra:8080", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert preflight.status_code == 200
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()


def test_framing_is_denied_unless_origins_are_allowed(hash_service: TanyaService) -> None:
    closed = client_for(hash_service).get("/healthz").headers
    assert closed["content-security-policy"] == "frame-ancestors 'none'"
    assert closed["x-frame-options"] == "DENY"
    open_ = client_for(hash_service, allowed_origins="https://portal.example").get("/healthz")
    assert open_.headers["content-security-policy"] == (
        "frame-ancestors 'self' https://portal.example")
    assert "x-frame-options" not in open_.headers


@pytest.mark.parametrize("origin", ["https://a.example; script-src *", "portal.example",
                                    "https://a.example/path"])
def test_origins_that_could_inject_policy_are_refused(hash_service: TanyaService,
                                                      origin: str) -> None:
    with pytest.raises(ConfigError):
        make_api(hash_service, hash_service.settings.with_(allowed_origins=origin))


# -- probes -------------------------------------------------------------------------------
def test_probes_when_ready(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["embedder"] == "hash:64"


def test_readyz_503_when_index_missing(tanya_home: Path) -> None:
    service = TanyaService(session_settings(home=tanya_home / "empty", embedder="hash:64"),
                           embedder=HashEmbedder(64))
    message = assert_error(TestClient(make_api(service)).get("/readyz"), 503, "index_not_built")
    assert "tanya index build" in message


def test_readyz_fails_fast_when_the_store_hangs(
        client: TestClient, hash_service: TanyaService, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api_module, "READY_TIMEOUT_S", 0.3)
    monkeypatch.setattr(hash_service.store, "heartbeat", lambda: time.sleep(3))
    started = time.monotonic()
    assert_error(client.get("/readyz"), 503, "store_unavailable")
    assert time.monotonic() - started < 2
    monkeypatch.undo()
    assert api_module.READY_TIMEOUT_S < 5, "/readyz must answer within 5 s"


# -- OpenAI-compatible ------------------------------------------------------------------
def chat_body(**extra: Any) -> dict[str, Any]:
    return {"model": "tanya-test", "messages": [
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": QUESTION}], **extra}


def test_chat_completion_matches_ask(client: TestClient) -> None:
    completion = client.post("/v1/chat/completions", json=chat_body(temperature=0)).json()
    direct = client.post("/api/ask", json={"question": QUESTION}).json()
    assert completion["object"] == "chat.completion" and completion["model"] == "tanya-test"
    message = completion["choices"][0]["message"]
    assert message == {"role": "assistant", "content": direct["answer"]}
    assert completion["choices"][0]["finish_reason"] == "stop"
    strip = lambda cs: [{k: v for k, v in c.items() if k != "score"} for c in cs]  # noqa: E731
    assert strip(completion["citations"]) == strip(direct["citations"])
    assert completion["refused"] is False


def test_chat_messages_map_to_question_and_history(client: TestClient) -> None:
    # A follow-up that leans on the earlier turns for its subject: asked alone it is
    # about nothing in particular (one that names a new subject finds it either way).
    follow_up = "What about it?"
    earlier = [{"role": "user", "content": QUESTION},
               {"role": "assistant", "content": "Kyiv menuntut jaminan."}]
    body = {"messages": [{"role": "system", "content": "Be brief."}, *earlier,
                         {"role": "user", "content": [{"type": "text", "text": follow_up}]}]}
    completion = client.post("/v1/chat/completions", json=body).json()
    assert completion["model"] == "tanya"
    content = completion["choices"][0]["message"]["content"]
    follow = client.post("/api/ask", json={"question": follow_up, "history": earlier})
    alone = client.post("/api/ask", json={"question": follow_up})
    assert content == follow.json()["answer"]
    assert content != alone.json()["answer"], "the earlier turns were used"


@pytest.mark.parametrize("body", [
    {"messages": []},
    {"messages": [{"role": "assistant", "content": "hello"}]},
    {"messages": [{"role": "user", "content": 5}]},
    {"messages": [{"role": "user", "content": "  "}]},
    {"messages": "What does Kyiv demand?"},
])
def test_bad_chat_requests_are_422(client: TestClient, body: dict[str, Any]) -> None:
    assert_error(client.post("/v1/chat/completions", json=body), 422)


def test_a_chat_message_with_an_unknown_role_is_named(client: TestClient) -> None:
    body = {"messages": [{"role": "bot", "content": "hello"},
                         {"role": "user", "content": QUESTION}]}
    message = assert_error(client.post("/v1/chat/completions", json=body), 422)
    assert "messages[0]: role 'bot' is not one of" in message
    # OpenAI's own roles are accepted, and only user and assistant turns are history.
    body["messages"][0] = {"role": "developer", "content": "Be brief."}
    assert client.post("/v1/chat/completions", json=body).status_code == 200


def sse_events(response: Any) -> list[Any]:
    assert response.headers["content-type"].startswith("text/event-stream")
    events = []
    for line in response.iter_lines():
        if line.startswith("data: "):
            data = line.removeprefix("data: ")
            events.append(data if data == "[DONE]" else json.loads(data))
    return events


def test_streaming_chat_sends_deltas_then_citations(client: TestClient) -> None:
    direct = client.post("/api/ask", json={"question": QUESTION}).json()
    with client.stream("POST", "/v1/chat/completions", json=chat_body(stream=True)) as response:
        events = sse_events(response)
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    assert all(c["object"] == "chat.completion.chunk" and c["model"] == "tanya-test"
               for c in chunks)
    assert len({c["id"] for c in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text == direct["answer"]
    assert len(chunks) > 3, "the answer arrives in pieces"
    final = chunks[-1]
    assert final["choices"][0]["finish_reason"] == "stop"
    assert [c["quote"] for c in final["citations"]] == [c["quote"] for c in direct["citations"]]
    assert all("citations" not in c for c in chunks[:-1])


def test_streaming_bad_question_is_422_not_a_stream(client: TestClient) -> None:
    response = client.post("/v1/chat/completions", json={
        "stream": True, "messages": [{"role": "user", "content": "x" * 5000}]})
    assert_error(response, 422, "bad_question")


def test_streaming_holds_and_releases_its_slot(hash_service: TanyaService) -> None:
    client = client_for(hash_service, max_concurrent_requests=1)
    for _ in range(3):  # would be 503 if a finished stream kept its slot
        with client.stream("POST", "/v1/chat/completions", json=chat_body(stream=True)) as r:
            assert r.status_code == 200
            sse_events(r)


# -- tanya serve --------------------------------------------------------------------------
def test_serve_refuses_workers_without_a_chroma_server(
        capsys: pytest.CaptureFixture[str], tanya_home: Path) -> None:
    assert main(["serve", "--workers", "2", "--embedder", "hash:64"]) == 2
    err = capsys.readouterr().err
    assert "TANYA_CHROMA_URL" in err and "not safe across processes" in err
    assert not (tanya_home / "chroma").exists(), "refused before building anything"


# -- live server: real clients over real HTTP ----------------------------------------------
@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path_factory.mktemp("live-api"), env={
        "TANYA_EMBEDDER": "hash:64", "TANYA_MAX_BODY_BYTES": "4096"}).start()
    yield server
    server.stop()


@pytest.mark.integration
def test_openai_client_against_tanya_serve(live: LiveServer) -> None:
    from openai import OpenAI

    client = OpenAI(base_url=f"{live.url}/v1", api_key="unused", max_retries=0, timeout=30)
    completion = client.chat.completions.create(
        model="tanya", messages=[{"role": "user", "content": QUESTION}])
    text = completion.choices[0].message.content or ""
    citations = (completion.model_extra or {})["citations"]
    assert citations and all(f"[{c['n']}]" in text for c in citations)

    stream = client.chat.completions.create(
        model="tanya", messages=[{"role": "user", "content": QUESTION}], stream=True)
    pieces, streamed_citations = [], None
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            pieces.append(chunk.choices[0].delta.content)
        streamed_citations = (chunk.model_extra or {}).get("citations", streamed_citations)
    assert "".join(pieces) == text
    assert streamed_citations == citations


@pytest.mark.integration
def test_gradio_client_calls_the_ask_endpoint(live: LiveServer) -> None:
    from gradio_client import Client

    client = Client(live.url, verbose=False)
    result = client.predict(question=QUESTION, api_name="/ask")
    assert result["question"] == QUESTION and result["citations"]
    follow = client.predict(question="And Moscow?", history=[
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": result["answer"]}], api_name="/ask")
    assert follow["standalone_query"] != "And Moscow?"


@pytest.mark.integration
def test_real_server_limits_chunked_bodies(live: LiveServer) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"question": "'
        for _ in range(100):
            yield b"x" * 100
        yield b'"}'

    response = httpx.post(f"{live.url}/api/ask", content=chunks(), timeout=10,
                          headers={"content-type": "application/json"})
    assert_error(response, 413, "payload_too_large")
    response = httpx.post(f"{live.url}/api/ask", content=b"{", timeout=10,
                          headers={"content-type": "application/json"})
    assert_error(response, 422)


@pytest.mark.integration
@pytest.mark.slow
def test_workers_share_one_chroma_server(chroma_server: ChromaServer,
                                         tmp_path_factory: pytest.TempPathFactory) -> None:
    server = LiveServer(tmp_path_factory.mktemp("live-workers"), args=["--workers", "2"], env={
        "TANYA_EMBEDDER": "hash:64", "TANYA_CHROMA_URL": chroma_server.url,
        "TANYA_INDEX": "workers-test"}).start()
    try:
        assert len(server.workers()) == 2
        with httpx.Client(base_url=server.url, timeout=30) as http:
            answers = {http.post("/api/ask", json={"question": QUESTION}).json()["answer"]
                       for _ in range(12)}
            assert len(answers) == 1 and "[1]" in answers.pop(), "every worker answers alike"
            assert http.get("/readyz").json()["index"] == "workers-test"
            assert_error(http.get("/"), 404, "not_found")
        assert not (server.home / "chroma").exists(), "nothing embedded on local disk"
    finally:
        server.stop()
