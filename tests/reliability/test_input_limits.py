"""Item 3 against a real `tanya serve`: oversized, endless, malformed and mistyped input is
refused with a JSON 413/422 that real clients can read, and the server's memory stays flat
however much is sent.

Already proven in-process (tests/assistant/test_api.py): malformed JSON, wrong types and
extra fields (422), declared and chunked bodies over the limit (413), over-long questions.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable

import httpx
import openai
import pytest

from assistant.ratelimit import DRAIN_MAX_BYTES
from assistant.settings import Settings
from eval.bench.stats import rss_mb
from tests.reliability.conftest import client_from
from tests.reliability.processes import raw_http
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.integration
SOURCE = "127.0.0.4"
FLOOD_SOURCE = "127.0.0.6"  # its own rate-limit bucket
AFTER_SOURCE = "127.0.0.7"
QUESTION = "What does Kyiv demand?"


def _error(response: bytes) -> dict[str, str]:
    body = response.partition(b"\r\n\r\n")[2]
    return dict(json.loads(body)["error"])


def _post_head(path: str, extra: str) -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"{extra}\r\n").encode()


@pytest.mark.parametrize("path", ["/api/ask", "/v1/chat/completions", "/gradio_api/queue/join"])
def test_oversized_bodies_are_413_declared_chunked_or_stalled(hostile_server: LiveServer,
                                                              path: str) -> None:
    declared = _post_head(path, "Content-Length: 1000000000\r\n")  # past the drain bound
    status, response = raw_http(hostile_server.port, declared)
    assert status == 413 and _error(response)["type"] == "payload_too_large"
    # A client that waits for "100 Continue" is answered before it sends anything.
    expecting = _post_head(path, "Content-Length: 5000000\r\nExpect: 100-continue\r\n")
    status, response = raw_http(hostile_server.port, expecting)
    assert status == 413 and _error(response)["type"] == "payload_too_large"
    chunked = _post_head(path, "Transfer-Encoding: chunked\r\n")
    piece = b"10000\r\n" + b"x" * 0x10000 + b"\r\n"  # 64 KiB chunks, then a stall
    status, response = raw_http(hostile_server.port, chunked, body_chunks=200, chunk=piece)
    assert status == 413 and _error(response)["type"] == "payload_too_large"


def _by_urllib(url: str, body: bytes) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(f"{url}/api/ask", data=body,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, {}
    except urllib.error.HTTPError as error:
        return error.code, dict(json.loads(error.read())["error"])


def _by_httpx(url: str, body: bytes) -> tuple[int, dict[str, str]]:
    response = httpx.post(f"{url}/api/ask", content=body, timeout=60,
                          headers={"Content-Type": "application/json"})
    return response.status_code, dict(response.json().get("error", {}))


def _by_openai(url: str, body: bytes) -> tuple[int, dict[str, str]]:
    client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0, timeout=60)
    content = json.loads(body)["question"]
    try:
        client.chat.completions.create(model="tanya",
                                       messages=[{"role": "user", "content": content}])
    except openai.APIStatusError as error:
        return error.status_code, dict(error.body or {})  # the client unwraps "error"
    return 200, {}


@pytest.mark.slow
@pytest.mark.parametrize("megabytes", [1, 5, 20])
@pytest.mark.parametrize("post", [_by_urllib, _by_httpx, _by_openai],
                         ids=["urllib", "httpx", "openai"])
def test_real_clients_read_the_413_of_an_oversized_body(
        hostile_server: LiveServer, post: Callable[[str, bytes], tuple[int, dict[str, str]]],
        megabytes: int) -> None:
    """The server reads what it refuses (up to a bound) before answering: a client still
    sending when the connection closes sees a reset, not the 413."""
    body = json.dumps({"question": "x" * (megabytes * 1_000_000)}).encode()
    if len(body) <= DRAIN_MAX_BYTES:
        status, error = post(hostile_server.url, body)
        assert status == 413, error
        assert error["type"] == "payload_too_large"
        limit = Settings().max_body_bytes  # the server under test keeps the default
        assert error["message"] == f"the request body is larger than {limit} bytes"
    else:  # past the bound the server answers at once and closes: a reset is allowed
        try:
            status, error = post(hostile_server.url, body)
            assert status == 413, error
        except (OSError, httpx.HTTPError, openai.APIConnectionError):
            pass
    assert httpx.get(f"{hostile_server.url}/healthz", timeout=10).status_code == 200
    with client_from(hostile_server, AFTER_SOURCE) as http:
        assert http.post("/api/ask", json={"question": QUESTION}).status_code == 200


@pytest.mark.parametrize(("body", "kind"), [
    ({"question": "Kyiv? " * 9000}, "bad_question"),              # 54 000 chars, under 64 KiB
    ({"messages": [{"role": "user", "content": "x" * 60000}]}, "bad_question"),
    ({"question": QUESTION, "history": [{"role": "user", "content": 5}]}, "invalid_request"),
    ({"question": QUESTION, "k": 10**30}, "bad_question"),
    ({"question": QUESTION, "k": 1.5}, "invalid_request"),
])
def test_huge_and_mistyped_fields_are_422(hostile_server: LiveServer, body: dict[str, object],
                                          kind: str) -> None:
    path = "/v1/chat/completions" if "messages" in body else "/api/ask"
    with client_from(hostile_server, SOURCE) as http:
        response = http.post(path, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["type"] == kind


@pytest.mark.parametrize("raw", [b"[" * 30000, b'{"question": ' + b"{\"a\": " * 10000,
                                 b"\xff\xfe\x00", b'{"question": "x"' + b" " * 60000])
def test_unparseable_bodies_are_422_json(hostile_server: LiveServer, raw: bytes) -> None:
    with client_from(hostile_server, SOURCE) as http:
        response = http.post("/api/ask", content=raw,
                             headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["type"] == "invalid_request"


@pytest.mark.slow
def test_memory_stays_flat_under_a_flood_of_oversized_input(hostile_server: LiveServer) -> None:
    with client_from(hostile_server, FLOOD_SOURCE) as http:
        http.post("/api/ask", json={"question": QUESTION})  # warm
    assert hostile_server.proc is not None
    before = rss_mb(hostile_server.proc.pid, children=False)
    piece = b"10000\r\n" + b"y" * 0x10000 + b"\r\n"
    sent = 0
    for _ in range(15):
        for path in ("/api/ask", "/v1/chat/completions"):
            status, _ = raw_http(hostile_server.port,
                                 _post_head(path, "Transfer-Encoding: chunked\r\n"),
                                 body_chunks=64, chunk=piece, tail=b"0\r\n\r\n")  # 4 MiB
            assert status == 413
            status, _ = raw_http(hostile_server.port,
                                 _post_head(path, "Content-Length: 50000000\r\n"))
            assert status == 413
            sent += 2
    with client_from(hostile_server, FLOOD_SOURCE) as http:
        for _ in range(10):  # bodies just under the limit are read whole: still flat
            response = http.post("/api/ask", json={"question": "x" * 60000})
            assert response.status_code == 422
    after = rss_mb(hostile_server.proc.pid, children=False)
    print(f"RSS {before:.0f} MB -> {after:.0f} MB after {sent} oversized and 10 near-limit "
          "bodies")
    assert after - before < 15
