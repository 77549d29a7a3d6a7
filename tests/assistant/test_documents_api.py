"""The document API in process: the admin key, routes off without it, every kind of bad
input answered with a clear JSON error, and what each write reports.

The same API over real HTTP, several workers and a Chroma server, with questions asked
during updates: tests/reliability/test_document_updates.py."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assistant.api import make_api
from assistant.service import TanyaService
from index.embedders import HashEmbedder
from tests.index.pages import KOMPAS_LIKE
from tests.support.pdf import make_pdf
from tests.support.settings import session_settings

KEY = "admin-secret"
AUTH = {"Authorization": f"Bearer {KEY}"}
ARTICLE = "jaminan-keamanan-ukraina"


def _text(version: str) -> str:
    return "\n\n".join(
        f"Kota Zorblat memiliki {version} menara biru di tepi sungai Quenta nomor {i}. Para "
        f"pedagang menjual kain {version} setiap pagi di pasar besar, dan wali kota mencatat "
        f"{version} kapal yang berlabuh di pelabuhan tua sepanjang musim hujan tahun lalu, "
        f"menurut laporan resmi yang dibacakan di balai kota."
        for i in range(3))


@pytest.fixture
def service(hash_service: TanyaService) -> TanyaService:
    return hash_service


def client_for(service: TanyaService, **changes: Any) -> TestClient:
    changes.setdefault("admin_key", KEY)
    return TestClient(make_api(service, service.settings.with_(**changes)))


@pytest.fixture
def client(service: TanyaService) -> TestClient:
    return client_for(service)


def error_of(response: Any, status: int, kind: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error: dict[str, Any] = response.json()["error"]
    assert error["message"] and (kind is None or error["type"] == kind), error
    assert "Traceback" not in response.text and "/tmp" not in response.text
    return error


# -- the key ------------------------------------------------------------------------------
def test_routes_are_off_without_the_setting(service: TanyaService) -> None:
    client = client_for(service, admin_key="", api_key="ask-key")
    for method, path in [("GET", "/api/documents"), ("POST", "/api/documents"),
                         ("GET", f"/api/documents/{ARTICLE}"),
                         ("DELETE", f"/api/documents/{ARTICLE}"), ("GET", "/api//documents/")]:
        response = client.request(method, path, headers={"Authorization": "Bearer ask-key"})
        assert "TANYA_ADMIN_KEY" in error_of(response, 404, "not_found")["message"]
    assert ARTICLE in service.manifest().documents


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {KEY}", "Bearer ask-key",
                                    f"Bearer {KEY}x"])
def test_a_missing_or_wrong_key_is_refused(service: TanyaService, header: str | None) -> None:
    client = client_for(service, api_key="ask-key")
    headers = {"Authorization": header} if header else {}
    for method, path in [("GET", "/api/documents"), ("DELETE", f"/api/documents/{ARTICLE}")]:
        response = client.request(method, path, headers=headers)
        assert "admin key" in error_of(response, 401, "unauthorized")["message"]
        assert response.headers["www-authenticate"] == "Bearer"
    response = client.post("/api/documents", headers=headers, json={"text": "x"})
    error_of(response, 401, "unauthorized")
    assert ARTICLE in service.manifest().documents
    # The admin key opens only this API, not the asking one.
    assert client.post("/api/ask", json={"question": "Kyiv?"}, headers=AUTH).status_code == 401


def test_failed_attempts_are_rate_limited(service: TanyaService) -> None:
    client = client_for(service, rate_limit_per_minute=3)
    codes = [client.get("/api/documents", headers={"Authorization": "Bearer guess"}).status_code
             for _ in range(5)]
    assert codes[:3] == [401] * 3 and codes[3:] == [429] * 2
    assert client.get("/api/documents", headers=AUTH).status_code == 200, "the key still works"


# -- writes -------------------------------------------------------------------------------
def test_post_unchanged_changed_get_list_delete(client: TestClient, service: TanyaService
                                                ) -> None:
    body = {"id": "zorblat", "title": "Kota Zorblat", "lang": "id", "text": _text("tujuh"),
            "url": "https://news.example/zorblat", "published": "2024-03-05", "author": "Siti"}
    added = client.post("/api/documents", json=body, headers=AUTH).json()
    assert added["added"] == 1 and added["chunks_embedded"] == 3
    assert added["documents"] == [{"id": "zorblat", "status": "added", "title": "Kota Zorblat",
                                   "chunks": 3, "chunks_embedded": 3}]
    again = client.post("/api/documents", json=body, headers=AUTH).json()
    assert again["unchanged"] == 1 and again["chunks_embedded"] == 0

    article_chunks = service.store.chunk_ids(service.manifest().generation, ARTICLE)
    changed = client.post("/api/documents", headers=AUTH, json={
        **body, "text": _text("sembilan").rsplit("\n\n", 1)[0]}).json()
    assert changed["changed"] == 1 and changed["documents"][0]["chunks"] == 2
    assert changed["chunks_embedded"] == 2, "exactly its chunks"
    assert service.store.chunk_ids(service.manifest().generation, ARTICLE) == article_chunks

    shown = client.get("/api/documents/zorblat", headers=AUTH).json()
    assert shown == {"id": "zorblat", "title": "Kota Zorblat", "url": "https://news.example/zorblat",
                     "published": "2024-03-05", "author": "Siti", "lang": "id", "chunks": 2,
                     "source": "api", "content_hash": shown["content_hash"]}
    listed = client.get("/api/documents", headers=AUTH).json()
    assert listed["total"] == 2 and [d["id"] for d in listed["documents"]] == [ARTICLE, "zorblat"]
    assert set(listed["documents"][1]) == {"id", "title", "url", "published", "author", "lang",
                                           "chunks"}
    page = client.get("/api/documents?offset=1&limit=1", headers=AUTH).json()
    assert (page["offset"], page["limit"], [d["id"] for d in page["documents"]]) == (
        1, 1, ["zorblat"])

    # Asked through the same service: the new version, cited with its metadata.
    answer = client.post("/api/ask", json={"question": "Berapa menara biru di kota Zorblat?"}
                         ).json()
    zorblat = [p for p in answer["passages"] if p["doc_id"] == "zorblat"]
    assert zorblat and all("sembilan" in p["text"] for p in zorblat)
    assert all(p["url"] == "https://news.example/zorblat" for p in zorblat)

    removed = client.delete("/api/documents/zorblat", headers=AUTH).json()
    assert removed["removed"] == 1 and removed["documents"][0]["status"] == "removed"
    error_of(client.get("/api/documents/zorblat", headers=AUTH), 404, "document_not_found")
    error_of(client.delete("/api/documents/zorblat", headers=AUTH), 404, "document_not_found")
    assert list(service.store.read_manifest().documents) == [ARTICLE]


def test_an_html_page_a_pdf_and_a_dump_as_uploads(client: TestClient) -> None:
    page = client.post("/api/documents", headers=AUTH, files={
        "file": ("kyiv-menuntut.id.html", KOMPAS_LIKE.raw(), "text/html")}).json()
    assert page["documents"][0]["id"] == "kyiv-menuntut" and page["added"] == 1
    shown = client.get("/api/documents/kyiv-menuntut", headers=AUTH).json()
    assert shown["url"].startswith("https://") and shown["published"] and shown["author"]
    assert shown["source"] == "upload:kyiv-menuntut.id.html" and shown["lang"] == "id"

    pdf = make_pdf([["Laporan Zorblat.", "", "Kota itu memiliki tujuh menara biru."]],
                   info={"Title": "Laporan", "Author": "Budi"})
    named = client.post("/api/documents", headers=AUTH, data={"id": "laporan-7", "lang": "id"},
                        files={"file": ("scan.pdf", pdf, "application/pdf")}).json()
    assert named["documents"][0] == {"id": "laporan-7", "status": "added", "title": "Laporan",
                                     "chunks": 1, "chunks_embedded": 1}

    dump = "\n".join(json.dumps({"id": f"a-{i}", "title": f"A {i}", "text": f"<p>Isi {i}.</p>"})
                     for i in range(5))
    both = client.post("/api/documents", headers=AUTH, files=[
        ("file", ("dump.jsonl", dump.encode(), "application/x-ndjson")),
        ("file", ("catatan.md", b"# Catatan\n\nSatu paragraf.", "text/markdown"))]).json()
    assert both["added"] == 6
    listed = client.get("/api/documents?limit=500", headers=AUTH).json()
    assert listed["total"] == 9


def test_a_page_posted_as_json_html(client: TestClient) -> None:
    body = {"id": "kompas-1", "html": KOMPAS_LIKE.raw().decode("utf-8"), "title": "Judul saya"}
    assert client.post("/api/documents", json=body, headers=AUTH).json()["added"] == 1
    shown = client.get("/api/documents/kompas-1", headers=AUTH).json()
    assert shown["title"] == "Judul saya", "given fields win over the page's"
    assert shown["url"].startswith("https://") and shown["author"]
    fragment = {"html": "<p>Paragraf satu tentang Zorblat.</p><p>Paragraf dua.</p>",
                "url": "https://news.example/2024/zorblat?utm=x"}
    posted = client.post("/api/documents", json=fragment, headers=AUTH).json()
    assert posted["documents"][0]["id"] == "news-example-2024-zorblat-utm-x"


# -- bad input ----------------------------------------------------------------------------
@pytest.mark.parametrize(("body", "needle"), [
    (b"{", "not valid JSON"),
    (b"[1, 2]", "must be a JSON object"),
    (b'{"id": "a"}', "give the article as 'text'"),
    (b'{"id": "a", "text": "x", "html": "<p>x</p>"}', "one of them"),
    (b'{"id": "a", "text": 3}', "'text' must be a string"),
    (b'{"id": "a", "text": "x", "body": "y"}', "unknown field(s) 'body'"),
    (b'{"id": "a b/c", "text": "x"}', "may hold only letters, digits"),
    (b'{"id": "a", "text": "   "}', "'text' is empty"),
    (b'{"id": "a", "text": "\\u200b\\u200b"}', "no text left"),
    # valid JSON, but half a character: the embedder could not encode it
    (b'{"id": "a", "text": "Halo \\ud800 dunia"}', "'text': U+D800 at character 6 is a lone"),
    (b'{"id": "a", "title": "\\udc00", "text": "Halo dunia"}', "'title': U+DC00"),
    (b'{"text": "Halo \\ud800 dunia"}', "'text': U+D800"),  # no id to derive one from
    (b'{"id": "a", "html": "<p>Halo \\ud800 dunia</p><p>Dua.</p>"}', "'html': U+D800"),
    (b'{"id": "a", "html": "<html><body><script>x()</script></body></html>"}', "no article text"),
    ("[" * 100_000 + "]" * 100_000, "not valid JSON"),
])
def test_bad_json_documents_get_clear_errors(client: TestClient, service: TanyaService,
                                             body: bytes | str, needle: str) -> None:
    response = client.post("/api/documents", content=body, headers={
        **AUTH, "Content-Type": "application/json"})
    assert needle in error_of(response, 422, "bad_document")["message"]
    assert list(service.store.read_manifest().documents) == [ARTICLE]


def test_bad_uploads_get_clear_errors_and_index_nothing(client: TestClient,
                                                        service: TanyaService) -> None:
    def upload(name: str, payload: bytes, **extra: Any) -> Any:
        return client.post("/api/documents", headers=AUTH, files={"file": (name, payload)},
                           **extra)

    error = error_of(upload("notes.docx", b"PK"), 415, "unsupported_format")
    assert "notes.docx: unsupported file type '.docx'" in error["message"]
    scanned = make_pdf([None, None])
    error = error_of(upload("scan.pdf", scanned), 422, "bad_document")
    assert "scan.pdf: the PDF has no text layer (2 page(s), a scan?)" in error["message"]
    error = error_of(upload("broken.pdf", b"%PDF-1.4 garbage"), 422, "bad_document")
    assert "broken.pdf: not a readable PDF" in error["message"]
    error = error_of(upload("empty.txt", b""), 422)
    assert "empty.txt: file is empty" in error["message"]
    error = error_of(upload("latin.txt", b"caf\xe9"), 422)
    assert "latin.txt: not valid UTF-8" in error["message"]

    lines = [json.dumps({"id": "ok-1", "text": "Baik."}), "not json",
             json.dumps({"id": "ok-2", "text": "Baik juga."}), json.dumps({"id": "x"}),
             json.dumps(["a"])]
    error = error_of(upload("dump.jsonl", "\n".join(lines).encode()), 422, "bad_document")
    assert error["problems"] == [
        "dump.jsonl:2: not valid JSON (Expecting value at column 1)",
        "dump.jsonl:4: record 'x': 'text' must be a string",
        "dump.jsonl:5: a line must be a JSON object, not list"]
    assert error["message"].startswith("nothing was indexed: dump.jsonl:2:")
    twice = "\n".join([lines[0], lines[0]]).encode()
    assert "given twice" in error_of(upload("twice.jsonl", twice), 422)["message"]
    error = error_of(upload("dump.jsonl", lines[0].encode(), data={"id": "x"}), 422)
    assert "records carry their own" in error["message"]

    error = error_of(client.post("/api/documents", headers=AUTH, data={"id": "x"},
                                 files={"other": ("a.txt", b"x")}), 422, "bad_document")
    assert "form field 'file'" in error["message"]
    error = error_of(client.post("/api/documents", headers={
        **AUTH, "Content-Type": "multipart/form-data"}, content=b"--zz\r\nbad"),
        422, "bad_document")
    assert "not valid multipart/form-data" in error["message"]
    for kind in ("text/plain", None):
        headers = {**AUTH, **({"Content-Type": kind} if kind else {})}
        error = error_of(client.post("/api/documents", headers=headers, content=b"hello"), 415)
        assert "send a JSON document (application/json) or files" in error["message"]
    assert list(service.store.read_manifest().documents) == [ARTICLE]


def test_limits(service: TanyaService) -> None:
    client = client_for(service, max_body_bytes=1000, max_upload_bytes=20_000)
    big = {"id": "big", "text": _text("besar") * 10}  # over the ask limit, under the upload one
    assert client.post("/api/documents", json=big, headers=AUTH).json()["added"] == 1
    error = error_of(client.post("/api/ask", json={"question": "x" * 2000}), 413)
    assert "1000 bytes" in error["message"]
    huge = {"id": "huge", "text": "kata " * 5000}
    error = error_of(client.post("/api/documents", json=huge, headers=AUTH), 413,
                     "payload_too_large")
    assert "20000 bytes" in error["message"]
    # Without the key, a document request is refused before any of its body is read.
    error_of(client.post("/api/documents", json=huge), 401)
    error = error_of(client.get("/api/documents?limit=501", headers=AUTH), 422)
    assert "limit" in error["message"]
    error_of(client.get("/api/documents?offset=-1", headers=AUTH), 422)


def test_a_build_running_elsewhere_makes_a_write_wait_then_say_busy(
        service: TanyaService, monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant import documents
    from index.builder import build_lock

    monkeypatch.setattr(documents, "LOCK_WAIT_SECONDS", 0.3)
    client = client_for(service)
    client.app.state.documents.lock_wait = 0.3  # type: ignore[attr-defined]
    with build_lock(service.settings.home, service.settings.index):
        response = client.post("/api/documents", json={"id": "z", "text": "x"}, headers=AUTH)
    assert "another `tanya index build` is running" in error_of(response, 409,
                                                               "index_busy")["message"]
    assert client.post("/api/documents", json={"id": "z", "text": "Teks."},
                       headers=AUTH).json()["added"] == 1


def test_another_embedder_is_refused(tanya_home: Any) -> None:
    built = TanyaService(session_settings(home=tanya_home, embedder="hash:64"),
                         embedder=HashEmbedder(64))
    built.build()
    other = TanyaService(session_settings(home=tanya_home, embedder="hash:32"),
                         embedder=HashEmbedder(32))
    response = client_for(other).post("/api/documents", json={"id": "z", "text": "x"},
                                      headers=AUTH)
    assert "was built with hash:64" in error_of(response, 409, "embedder_mismatch")["message"]
