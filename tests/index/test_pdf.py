"""Text PDFs: lines reflowed into paragraphs; a PDF without a text layer is refused."""

from __future__ import annotations

from pathlib import Path

from index.chunking import chunk_document
from index.documents import load_corpus
from index.formats.pdf import reflow
from tests.support.pdf import make_pdf

PAGE_1 = [
    "Kyiv demands security guarantees that bind its allies in law",
    "before the peace talks with Moscow resume, officials said.",
    "",
    "The Budapest Memorandum of 1994 showed that political promises",
    "alone were not enough to protect the country's borders. A",
    "binding treaty would oblige its allies to defend it.",
    "Washington offered weapons and training for years to come.",
]
PAGE_2 = ["European governments are discussing monitors for the front line."]


def _write(path: Path, pages: list[list[str] | None], **info: str) -> Path:
    path.write_bytes(make_pdf(pages, info or None))
    return path


def test_a_text_pdf_loads_as_paragraphs_with_its_title_and_author(tmp_path: Path) -> None:
    path = _write(tmp_path / "briefing.en.pdf", [PAGE_1, PAGE_2],
                  Title="Kyiv wants binding guarantees", Author="Jane Doe")
    docs, problems = load_corpus([path])
    assert problems == []
    [doc] = docs
    assert (doc.doc_id, doc.lang, doc.title, doc.author) == (
        "briefing", "en", "Kyiv wants binding guarantees", "Jane Doe")
    assert doc.text.split("\n\n") == [
        "Kyiv demands security guarantees that bind its allies in law before the peace "
        "talks with Moscow resume, officials said.",
        "The Budapest Memorandum of 1994 showed that political promises alone were not "
        "enough to protect the country's borders. A binding treaty would oblige its allies "
        "to defend it.",
        "Washington offered weapons and training for years to come.",
        "European governments are discussing monitors for the front line.",
    ]
    for chunk in chunk_document(doc):
        assert doc.text[chunk.start:chunk.end] == chunk.text


def test_without_document_info_the_title_comes_from_the_file_name(tmp_path: Path) -> None:
    [doc], _ = load_corpus([_write(tmp_path / "laporan_mingguan.pdf", [PAGE_2])])
    assert (doc.title, doc.author, doc.url, doc.published) == ("Laporan mingguan", "", "", "")


def test_a_scanned_pdf_is_reported_by_name_not_indexed_empty(tmp_path: Path) -> None:
    good = _write(tmp_path / "good.pdf", [PAGE_1])
    scan = _write(tmp_path / "scan.pdf", [None, None])
    docs, problems = load_corpus([good, scan])
    assert [d.doc_id for d in docs] == ["good"]
    [problem] = problems
    assert problem.path == str(scan)
    assert "no text layer" in problem.reason and "OCR" in problem.reason


def test_broken_pdfs_are_reported_by_name(tmp_path: Path) -> None:
    (tmp_path / "truncated.pdf").write_bytes(make_pdf([PAGE_1])[:200])
    (tmp_path / "renamed.pdf").write_bytes(b"PK\x03\x04 a zip file, not a PDF")
    (tmp_path / "empty.pdf").write_bytes(b"")
    docs, problems = load_corpus([tmp_path])
    assert docs == []
    reasons = {Path(p.path).name: p.reason for p in problems}
    assert reasons["empty.pdf"] == "file is empty"
    assert "not a readable PDF" in reasons["truncated.pdf"]
    assert "not a readable PDF" in reasons["renamed.pdf"]


def test_reflow_keeps_hyphenated_words_whole_and_splits_at_blank_lines() -> None:
    page = ("Anak-\nanak sekolah kembali belajar di kelas pada hari Senin pagi ini\n"
            "setelah libur panjang.\n\nParagraf kedua.")
    assert reflow([[(line, None) for line in page.split("\n")]]) == (
        "Anak-anak sekolah kembali belajar di kelas pada hari Senin pagi ini setelah libur "
        "panjang.\n\nParagraf kedua.")
