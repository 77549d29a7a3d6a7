from index.documents import bundled_documents, load_corpus, normalize_text
from tests.support.pdf import make_pdf


def test_bundled_article_has_metadata():
    [doc] = bundled_documents()
    assert doc.doc_id == "jaminan-keamanan-ukraina"
    assert doc.lang == "id"
    assert doc.title
    assert doc.text.startswith("Amerika Serikat menawarkan")


def test_bad_files_are_reported_by_name_and_skipped(tmp_path):
    good = tmp_path / "good.id.txt"
    good.write_text("Paragraf yang baik.\n", encoding="utf-8")
    (tmp_path / "empty.txt").write_text("  \n", encoding="utf-8")
    (tmp_path / "latin1.txt").write_bytes("caf\xe9 au lait".encode("latin-1"))
    docx = tmp_path / "report.docx"
    docx.write_bytes(b"PK\x03\x04")
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    docs, problems = load_corpus([tmp_path / "good.id.txt", tmp_path / "empty.txt",
                                  tmp_path / "latin1.txt", docx, pdf, tmp_path / "missing.md"])
    assert [d.doc_id for d in docs] == ["good"]
    assert docs[0].lang == "id"
    reasons = {p.path.rsplit("/", 1)[-1]: p.reason for p in problems}
    assert "empty" in reasons["empty.txt"]
    assert "UTF-8" in reasons["latin1.txt"]
    assert "unsupported" in reasons["report.docx"] and ".jsonl" in reasons["report.docx"]
    assert "not a readable PDF" in reasons["report.pdf"]
    assert "no such file" in reasons["missing.md"]


def test_a_file_name_that_is_not_utf8_is_reported_and_the_rest_load(tmp_path):
    import os

    (tmp_path / "good.id.txt").write_text("Paragraf yang baik.\n", encoding="utf-8")
    # What a zip made on another system can hold: Python keeps the byte as a surrogate.
    bad = tmp_path / os.fsdecode(b"caf\xe9.id.txt")
    bad.write_text("Paragraf lain.\n", encoding="utf-8")
    docs, problems = load_corpus([tmp_path])
    assert [d.doc_id for d in docs] == ["good"]
    assert [p.reason for p in problems] == ["the file name is not valid UTF-8; rename it"]
    assert problems[0].path.endswith("caf\ufffd.id.txt")  # printable, unlike the name


def test_directories_are_walked_for_every_supported_format(tmp_path):
    (tmp_path / "a.md").write_text("# Title A\n\nBody.", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text("Body b.", encoding="utf-8")
    (tmp_path / "sub" / "c.HTM").write_text(
        "<html><body><article><p>Body c, a page.</p></article></body></html>", encoding="utf-8")
    (tmp_path / "sub" / "d.pdf").write_bytes(make_pdf([["Body d, a PDF."]]))
    (tmp_path / "e.jsonl").write_text('{"id": "e1", "text": "Body e1."}\n'
                                      '{"id": "e2", "text": "<p>Body e2.</p>"}\n',
                                      encoding="utf-8")
    (tmp_path / "notes.csv").write_text("x", encoding="utf-8")
    docs, problems = load_corpus([tmp_path])
    assert sorted(d.doc_id for d in docs) == ["a", "b", "c", "d", "e1", "e2"]
    assert next(d for d in docs if d.doc_id == "a").title == "Title A"
    assert problems == []


def test_invisible_characters_are_stripped_at_ingestion():
    assert normalize_text("ab\u200bc\ufeff\r\nd\u2060e") == "abc\nde"


def test_separator_controls_keep_words_apart_and_the_rest_go():
    """A form feed or vertical tab between words is a space, not a glue; ESC is dropped."""
    assert normalize_text("Kyiv\x0cmenuntut\x0bjaminan\x1fbaru\x1b[31m") == (
        "Kyiv menuntut jaminan baru[31m")
