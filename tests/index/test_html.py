"""HTML news pages: the article and its metadata in, the site around it out."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.chunking import chunk_document
from index.documents import Document, load_corpus
from index.formats.html import fragment_text, looks_like_html
from tests.index.pages import KOMPAS_LIKE, PAGES


def _load_page(tmp_path: Path, name: str, suffix: str = ".html") -> Document:
    path = tmp_path / f"{name}{suffix}"
    path.write_bytes(PAGES[name].raw())
    docs, problems = load_corpus([path])
    assert problems == []
    [doc] = docs
    return doc


@pytest.mark.parametrize("name", sorted(PAGES))
def test_the_article_is_kept_and_the_site_around_it_left_out(tmp_path: Path, name: str) -> None:
    doc = _load_page(tmp_path, name)
    for passage in PAGES[name].article:
        assert passage in doc.text
    leaked = [b for b in PAGES[name].boilerplate if b.lower() in doc.text.lower()]
    assert leaked == [], "menus, ads, related links, comments and cookie banners stay out"


def test_metadata_comes_from_meta_tags_and_the_canonical_link(tmp_path: Path) -> None:
    doc = _load_page(tmp_path, "kompas-like", ".htm")
    assert doc.doc_id == "kompas-like" and doc.source.endswith("kompas-like.htm")
    assert doc.title == "Kyiv Menuntut Jaminan Keamanan yang Mengikat"
    assert doc.author == "Siti Rahmawati"
    assert doc.published == "2024-03-05"
    # The canonical link, not og:url with its tracking parameters.
    assert doc.url == ("https://www.harian-nusantara.example/global/read/2024/03/05/"
                       "kyiv-menuntut-jaminan")
    assert doc.lang == "id", "from <html lang='id-ID'>"


def test_metadata_from_json_ld_a_relative_canonical_and_a_legacy_charset(
        tmp_path: Path) -> None:
    doc = _load_page(tmp_path, "wire-like")
    assert doc.title == "US offers Ukraine long-term support, but no troops"
    assert doc.author == "John Carter"
    assert doc.published == "2024-02-28"
    assert doc.url == "https://dailywire.example/world/europe/us-offers-ukraine-support-no-troops"
    assert doc.lang == "en"
    assert "café-table" in doc.text, "windows-1252 decoded as the page declares"


def test_the_file_names_language_tag_wins(tmp_path: Path) -> None:
    path = tmp_path / "laporan.ms.html"
    path.write_bytes(KOMPAS_LIKE.raw())
    [doc], _ = load_corpus([path])
    assert (doc.doc_id, doc.lang) == ("laporan", "ms")


@pytest.mark.parametrize("name", sorted(PAGES))
def test_offsets_are_exact_in_the_extracted_text(tmp_path: Path, name: str) -> None:
    doc = _load_page(tmp_path, name)
    chunks = chunk_document(doc)
    assert chunks
    for chunk in chunks:
        assert doc.text[chunk.start:chunk.end] == chunk.text
        assert (chunk.url, chunk.published, chunk.author) == (doc.url, doc.published,
                                                              doc.author)
        for sentence in chunk.sentences:
            assert doc.text[sentence.start:sentence.end] == sentence.text


def test_unreadable_pages_are_reported_by_name_and_the_rest_load(tmp_path: Path) -> None:
    (tmp_path / "good.html").write_bytes(KOMPAS_LIKE.raw())
    (tmp_path / "empty.html").write_bytes(b"")
    (tmp_path / "binary.htm").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "tagless.html").write_text("   \n\t ", encoding="utf-8")
    docs, problems = load_corpus([tmp_path])
    assert [d.doc_id for d in docs] == ["good"]
    reasons = {Path(p.path).name: p.reason for p in problems}
    assert set(reasons) == {"empty.html", "binary.htm", "tagless.html"}
    assert reasons["empty.html"] == "file is empty"
    assert "not a readable HTML page" in reasons["binary.htm"]


def test_a_cms_body_keeps_every_paragraph_and_drops_the_tags() -> None:
    body = ("Paragraf <b>pertama</b> &amp; satu.<br>Baris kedua.<br/><br/>Paragraf baru."
            "<p>Kutipan&nbsp;pendek.</p><script>track()</script><!-- editor note -->"
            "<ul><li>satu</li><li>dua</li></ul><h2>Sub judul</h2><p>Terakhir.</p>")
    assert looks_like_html(body) and not looks_like_html("Harga naik 5 < 7 persen.")
    assert fragment_text(body) == (
        "Paragraf pertama & satu.\nBaris kedua.\n\nParagraf baru.\n\nKutipan pendek.\n\n"
        "satu\n\ndua\n\nSub judul\n\nTerakhir.")
