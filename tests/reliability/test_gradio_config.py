"""Item 11: the chat window's Gradio set-up. No share link, no flagging, a bounded queue,
and only the app's own assets are served: every file route and traversal spelling gets
nothing, against a real `tanya serve` with raw (un-normalised) request paths."""

from __future__ import annotations

import re
from pathlib import Path

import gradio.networking
import pytest
from fastapi.testclient import TestClient

from assistant.server import create_app
from assistant.service import TanyaService
from assistant.ui import make_ui
from tests.reliability.processes import raw_http
from tests.support.live_server import LiveServer

REPO = Path(__file__).resolve().parents[2]
SECRET_MARKERS = (b"root:", b"PATH=", b"HOME=", b"[build-system]", b"INFO tanya", b"SQLite")


def _targets(home: Path) -> list[str]:
    log = home / "logs" / "tanya.log"
    return [
        "/file=/etc/passwd", "/gradio_api/file=/etc/passwd", "/gradio_api/file=%2Fetc%2Fpasswd",
        "/gradio_api/file=../../../../etc/passwd", "/gradio_api/file=..%2F..%2F..%2Fetc%2Fpasswd",
        "/gradio_api/file=%2E%2E/%2E%2E/%2E%2E/etc/passwd", "/gradio_api/file/etc/passwd",
        "/gradio_api/%66ile=/etc/passwd", "/gradio_api/file%3D/etc/passwd",
        "//gradio_api/file=/etc/passwd", "/./gradio_api/file=/etc/passwd",
        "/x/../gradio_api/file=/etc/passwd", "/gradio_api/file=/proc/self/environ",
        f"/gradio_api/file={log}", f"/gradio_api/file={home}/chroma/chroma.sqlite3",
        f"/gradio_api/file={REPO}/pyproject.toml", "/gradio_api/file=pyproject.toml",
        "/static/../../../../etc/passwd", "/static/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "/assets/..%2F..%2F..%2Fetc%2Fpasswd", "/svelte/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "/gradio_api/proxy=http://127.0.0.1:9/", "/gradio_api/dev/reload", "/monitoring",
        "/gradio_api/stream/x/1/2/playlist.m3u8", "/gradio_api/custom_component/a/b/c/d",
    ]


def test_no_file_route_or_traversal_serves_anything(hostile_server: LiveServer) -> None:
    served = []
    for target in _targets(hostile_server.home):
        head = f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        status, response = raw_http(hostile_server.port, head.encode(), timeout=5)
        if status not in (400, 403, 404, 405) or any(m in response for m in SECRET_MARKERS):
            served.append(f"{status} {target}: {response[:120]!r}")
    assert served == []


def test_uploads_are_closed(hostile_server: LiveServer) -> None:
    body = (b"--b\r\nContent-Disposition: form-data; name=\"files\"; filename=\"x.html\"\r\n"
            b"Content-Type: text/html\r\n\r\n<script>alert(1)</script>\r\n--b--\r\n")
    head = (b"POST /gradio_api/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            b"Content-Type: multipart/form-data; boundary=b\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode())
    status, _ = raw_http(hostile_server.port, head + body, timeout=5)
    assert status == 404


def test_the_apps_own_assets_are_served(hostile_server: LiveServer) -> None:
    status, page = raw_http(hostile_server.port,
                            b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    assert status == 200
    assets = re.findall(rb'(?:src|href)="\.?(/?assets/[^"]+\.(?:js|css))"', page)
    assert assets, "the page references its bundled assets"
    asset = assets[0].decode().lstrip("/")
    status, _ = raw_http(hostile_server.port,
                         f"GET /{asset} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         "Connection: close\r\n\r\n".encode())
    assert status == 200


def test_no_share_link_no_flagging_and_a_bounded_queue(hash_service: TanyaService,
                                                       tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADIO_SHARE", "True")  # mounting must ignore it
    monkeypatch.chdir(tmp_path)
    tunnels: list[object] = []
    # Gradio opens a share link through this one function; it must never be reached.
    monkeypatch.setattr(gradio.networking, "setup_tunnel", lambda *a, **k: tunnels.append(a))
    settings = hash_service.settings.with_(max_concurrent_requests=7)
    demo = make_ui(TanyaService(settings, embedder=hash_service.embedder))
    assert demo._queue.max_size == 7, "the window's queue holds at most the API's limit"
    assert demo._queue.default_concurrency_limit == 2
    with TestClient(create_app(settings, hash_service)) as client:
        config = client.get("/config").json()
        chatbot = next(c for c in config["components"] if c.get("props", {}).get(
            "elem_id") == "tanya-chat")
        assert not chatbot["props"].get("feedback_options"), "no like/flag buttons"
        assert config["show_error"] is False
        client.post("/gradio_api/call/ask", json={"data": ["What does Kyiv demand?", []]})
        paths = [getattr(r, "path", "") for r in client.app.routes]  # type: ignore[attr-defined]
    assert tunnels == [], "no share link was opened"
    assert not [p for p in paths if "flag" in p]
    assert not list(tmp_path.rglob("*flag*")), "nothing flagged to disk"
