"""Document metadata (url, published, author) from the loader to every edge: the store,
``Answer.to_dict()``, ``tanya ask --json``, ``/api/ask``, chat completions, the sources panel."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.api import make_api
from assistant.cli import main
from assistant.service import TanyaService
from assistant.types import Answer, Citation, Passage
from assistant.ui import render_sources
from index.chunking import chunk_document
from index.documents import Document, load_corpus
from index.embedders import HashEmbedder
from index.store import _passage, chunk_metadata
from tests.index.pages import KOMPAS_LIKE
from tests.support.settings import session_settings

URL = "https://www.harian-nusantara.example/global/read/2024/03/05/kyiv-menuntut-jaminan"
QUESTION = "Amerika Serikat menawarkan dukungan militer jangka panjang?"
METADATA = {"url": URL, "published": "2024-03-05", "author": "Siti Rahmawati"}


@pytest.fixture
def corpus(tmp_path: Path) -> list[Document]:
    """The saved news page and a dump article without URL, date or author."""
    (tmp_path / "kyiv.html").write_bytes(KOMPAS_LIKE.raw())
    (tmp_path / "arsip.jsonl").write_text(json.dumps({
        "id": "cuaca-1", "title": "Cuaca", "url": None,
        "text": "Hujan deras turun di Jakarta sepanjang hari Senin."}) + "\n",
        encoding="utf-8")
    docs, problems = load_corpus([tmp_path])
    assert problems == [] and [d.doc_id for d in docs] == ["cuaca-1", "kyiv"]
    return docs


@pytest.fixture
def service(tanya_home: Path, corpus: list[Document]) -> TanyaService:
    service = TanyaService(session_settings(home=tanya_home, embedder="hash:64"),
                           embedder=HashEmbedder(64))
    service.build(corpus)
    return service


def _assert_metadata(citations: list[dict], docs: dict[str, Document]) -> None:
    assert any(c["doc_id"] == "kyiv" for c in citations)
    for citation in citations:
        assert {"n", "doc_id", "title", "section", "paragraph", "quote", "start", "end",
                "score", "passage_rank"} <= set(citation), "the existing keys stay"
        doc = docs[citation["doc_id"]]
        assert doc.text[citation["start"]:citation["end"]] == citation["quote"]
        if doc.doc_id == "kyiv":
            assert {k: citation[k] for k in METADATA} == METADATA
        else:
            assert not set(METADATA) & set(citation), "unknown metadata is left out"


def test_content_hash_covers_metadata_and_keeps_old_hashes(corpus: list[Document]) -> None:
    plain = Document("d", "T", "id", "Teks.", "x")
    assert plain.content_hash == hashlib.sha256(b"T\x00id\x00Teks.").hexdigest(), (
        "documents without metadata keep the hash an existing index recorded")
    for field in METADATA:
        assert replace(plain, **{field: "2024"}).content_hash != plain.content_hash


def test_chunks_carry_metadata_into_the_store_and_back(corpus: list[Document]) -> None:
    cuaca, kyiv = corpus
    [chunk] = chunk_document(kyiv)[:1]
    meta = chunk_metadata(chunk)
    assert {k: meta[k] for k in METADATA} == METADATA
    assert not set(METADATA) & set(chunk_metadata(chunk_document(cuaca)[0])), (
        "Chroma stores no None: unknown metadata is no key")
    back = _passage(chunk.chunk_id, chunk.text, meta, 0.5)
    assert (back.url, back.published, back.author) == tuple(METADATA.values())
    older = {k: v for k, v in meta.items() if k not in METADATA}  # built before metadata
    assert _passage(chunk.chunk_id, chunk.text, older, 0.5).url == ""


def test_a_changed_url_or_date_re_indexes_the_document(service: TanyaService,
                                                       corpus: list[Document]) -> None:
    cuaca, kyiv = corpus
    assert service.build(corpus).unchanged == ["cuaca-1", "kyiv"]
    moved = replace(kyiv, url="https://www.harian-nusantara.example/read/kyiv")
    report = service.build([cuaca, moved])
    assert report.changed == ["kyiv"] and report.unchanged == ["cuaca-1"]
    assert service.ask(QUESTION).citations[0].url == moved.url
    assert service.build([cuaca, replace(moved, published="2024-03-06")]).changed == ["kyiv"]


def test_citations_and_passages_of_an_answer_carry_the_metadata(
        service: TanyaService, corpus: list[Document]) -> None:
    answer = service.ask(QUESTION).to_dict()
    assert not answer["refused"]
    docs = {d.doc_id: d for d in corpus}
    _assert_metadata(answer["citations"], docs)
    for passage in answer["passages"]:
        if passage["doc_id"] == "kyiv":
            assert {k: passage[k] for k in METADATA} == METADATA
        else:
            assert not set(METADATA) & set(passage)


def test_the_api_and_chat_completions_carry_the_metadata(
        service: TanyaService, corpus: list[Document]) -> None:
    client = TestClient(make_api(service))
    docs = {d.doc_id: d for d in corpus}
    _assert_metadata(client.post("/api/ask", json={"question": QUESTION}).json()["citations"],
                     docs)
    chat = {"model": "tanya", "messages": [{"role": "user", "content": QUESTION}]}
    _assert_metadata(client.post("/v1/chat/completions", json=chat).json()["citations"], docs)
    with client.stream("POST", "/v1/chat/completions", json={**chat, "stream": True}) as got:
        events = [json.loads(line[6:]) for line in got.iter_lines()
                  if line.startswith("data: {")]
    _assert_metadata(next(e["citations"] for e in events if e.get("citations")), docs)


def test_tanya_ask_json_carries_the_metadata(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("TANYA_EMBEDDER", "hash:64")
    page = tmp_path / "kyiv.html"
    page.write_bytes(KOMPAS_LIKE.raw())
    assert main(["index", "build", "--corpus", str(page)]) == 0
    capsys.readouterr()
    assert main(["ask", QUESTION, "--json"]) == 0
    [doc], _ = load_corpus([page])
    _assert_metadata(json.loads(capsys.readouterr().out)["citations"], {"kyiv": doc})


def _answer(title: str, **metadata: str) -> Answer:
    text = "Kalimat satu. Kyiv menuntut X."
    passage = Passage(1, "c1", "d", title, "", 3, 0, len(text), text, 0.9, **metadata)
    citation = Citation(1, "d", title, "", 3, "Kyiv menuntut X.", 14, len(text), 0.9, 1,
                        **metadata)
    return Answer("q", "A: Kyiv menuntut X. [1]", False, "id", [citation], [passage])


def test_the_sources_panel_links_the_title_and_shows_the_date() -> None:
    rendered = render_sources(_answer("Kyiv & <Barat>", url=URL + "?a=1&b=2",
                                      published="2024-03-05T08:30:00+07:00",
                                      author="Siti <b>R</b>"))
    assert (f'<a class="tanya-doc-link" href="{URL}?a=1&amp;b=2" target="_blank" '
            'rel="noopener noreferrer nofollow">Kyiv &amp; &lt;Barat&gt;</a>') in rendered
    assert '<span class="tanya-date">2024-03-05</span>' in rendered
    assert '<span class="tanya-author">Siti &lt;b&gt;R&lt;/b&gt;</span>' in rendered
    assert "<Barat>" not in rendered and "<b>R" not in rendered


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", " JavaScript:alert(1)", "data:text/html,<script>x</script>",
    "/relative/path", "//evil.example/x", "ftp://files.example/a", "http://",
    'https://ok.example/" onmouseover="alert(1)', "https://ok.example/\nx"])
def test_only_http_urls_become_links(url: str) -> None:
    rendered = render_sources(_answer("Judul", url=url, published="5 Maret 2024"))
    assert "<a " not in rendered and "href" not in rendered
    assert '<span class="tanya-doc-title">Judul</span>' in rendered
    assert '<span class="tanya-date">5 Maret 2024</span>' in rendered


def test_a_quote_in_a_url_cannot_leave_the_href() -> None:
    rendered = render_sources(_answer("Judul", url='https://ok.example/"><script>x()</script>'))
    assert 'href="https://ok.example/&quot;&gt;&lt;script&gt;x()&lt;/script&gt;"' in rendered
    assert "<script" not in rendered


def test_a_document_without_metadata_shows_its_title_alone() -> None:
    rendered = render_sources(_answer("Jaminan keamanan"))
    assert '<div class="tanya-doc"><span class="tanya-doc-title">Jaminan keamanan</span></div>' \
        in rendered
    assert "tanya-date" not in rendered and "<a " not in rendered
