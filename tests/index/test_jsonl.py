"""JSONL archive dumps: one article per line; a bad line is reported by number, the rest load."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from assistant.cli import main
from index.chunking import chunk_document
from index.documents import load_corpus


def article(i: int) -> dict[str, Any]:
    """Article ``i`` of a generated archive: every third one's text is CMS HTML, every
    fifth has an author, every seventh has no URL or date (null)."""
    body = [f"Artikel nomor {i} membahas perundingan damai di Kyiv pada hari ke-{i}.",
            f"Menurut pejabat, jaminan keamanan nomor {i} harus mengikat secara hukum."]
    record: dict[str, Any] = {
        "id": f"arsip-{i:04d}",
        "title": f"Berita arsip {i}",
        "url": f"https://arsip.example/berita/{i}",
        "published": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T07:00:00+07:00",
        "text": ("".join(f"<p>{p}</p>" for p in body) + "<script>track()</script>"
                 if i % 3 == 0 else "\n\n".join(body)),
    }
    if i % 5 == 0:
        record["author"] = f"Penulis {i}"
    if i % 7 == 0:
        record["url"] = record["published"] = None
    return record


def write_dump(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_dump_of_1000_articles_loads_with_its_metadata(tmp_path: Path) -> None:
    dump = write_dump(tmp_path / "arsip.id.jsonl",
                      [json.dumps(article(i), ensure_ascii=False) for i in range(1000)])
    docs, problems = load_corpus([dump])
    assert problems == []
    assert [d.doc_id for d in docs] == [f"arsip-{i:04d}" for i in range(1000)]
    by_id = {d.doc_id: d for d in docs}
    plain, html, bare = by_id["arsip-0010"], by_id["arsip-0003"], by_id["arsip-0014"]
    assert (plain.title, plain.lang, plain.url, plain.published, plain.author) == (
        "Berita arsip 10", "id", "https://arsip.example/berita/10",
        "2024-11-11T07:00:00+07:00", "Penulis 10")
    assert plain.source == f"{dump}:11"
    assert html.text == ("Artikel nomor 3 membahas perundingan damai di Kyiv pada hari ke-3."
                         "\n\nMenurut pejabat, jaminan keamanan nomor 3 harus mengikat secara "
                         "hukum."), "HTML text arrives as paragraphs, without tags or scripts"
    assert (bare.url, bare.published) == ("", "")
    for doc in (plain, html, bare):
        for chunk in chunk_document(doc):
            assert doc.text[chunk.start:chunk.end] == chunk.text


def test_malformed_lines_are_reported_by_line_number_and_the_rest_load(
        tmp_path: Path) -> None:
    good = [json.dumps(article(i)) for i in range(1000)]
    bad = {
        3: '{"id": "broken", "text": "no closing brace"',
        10: '["a", "list"]',
        20: json.dumps({"title": "no id", "text": "Teks."}),
        30: json.dumps({"id": "a/b", "text": "Teks."}),
        40: json.dumps({"id": "x-40", "text": 42}),
        50: json.dumps({"id": "x-50", "text": "Teks.", "published": 20240305}),
        60: json.dumps({"id": "x-60", "text": "   "}),
        70: json.dumps(article(5)),  # an id an earlier line has
        # valid JSON, but "\ud800" is half a character: no model could read the text
        75: '{"id": "x-75", "text": "Teks \\ud800 rusak."}',
        # ...checked before HTML extraction, which would cut the text short there
        76: '{"id": "x-76", "text": "<p>Teks \\ud800 rusak.</p><p>Paragraf dua.</p>"}',
    }
    lines = list(good)
    for number in sorted(bad):
        lines.insert(number - 1, bad[number])
    lines.insert(80 - 1, "")  # blank lines are skipped silently
    first_of_5 = lines.index(json.dumps(article(5))) + 1
    dump = write_dump(tmp_path / "dump.jsonl", lines)
    raw = dump.read_bytes().split(b"\n")
    raw[89] = b'{"id": "latin1", "text": "caf\xe9"}'  # line 90: not UTF-8
    dump.write_bytes(b"\n".join(raw))
    docs, problems = load_corpus([dump])
    reasons = {p.path: p.reason for p in problems}
    assert sorted(reasons) == sorted(f"{dump}:{n}" for n in [*bad, 90])
    assert "not valid JSON" in reasons[f"{dump}:3"]
    assert "JSON object" in reasons[f"{dump}:10"]
    assert "'id' is missing" in reasons[f"{dump}:20"]
    assert "may hold only letters" in reasons[f"{dump}:30"]
    assert "'text' must be a string" in reasons[f"{dump}:40"]
    assert "'published' must be a string or null" in reasons[f"{dump}:50"]
    assert "'text' is empty" in reasons[f"{dump}:60"]
    assert reasons[f"{dump}:70"] == (
        f"same document id 'arsip-0005' as {dump}:{first_of_5}; rename one")
    assert "not valid UTF-8" in reasons[f"{dump}:90"]
    assert reasons[f"{dump}:75"].startswith("'text': U+D800 at character 6 is a lone surrogate")
    assert reasons[f"{dump}:76"].startswith("'text': U+D800 at character 9 is a lone surrogate")
    assert str(problems[0]).startswith(f"{dump}:3: ")
    # 1,000 good lines, one of which (line 90's article) was overwritten.
    assert len(docs) == 999 and len({d.doc_id for d in docs}) == 999


def test_an_empty_dump_and_an_oversized_line_are_reported(tmp_path: Path, monkeypatch) -> None:
    import index.documents

    monkeypatch.setattr(index.documents, "MAX_DOCUMENT_BYTES", 500)
    (tmp_path / "empty.jsonl").write_bytes(b"\n\n")
    big = write_dump(tmp_path / "big.jsonl", [
        json.dumps({"id": "huge", "text": "x" * 2000}), json.dumps(article(1))])
    docs, problems = load_corpus([tmp_path / "empty.jsonl", big])
    assert [d.doc_id for d in docs] == ["arsip-0001"]
    assert [str(p) for p in problems] == [
        f"{tmp_path / 'empty.jsonl'}: file is empty",
        f"{big}:1: line is longer than 500 bytes"]


def test_index_build_takes_a_dump_and_names_its_bad_lines(tmp_path: Path, capsys,
                                                          monkeypatch) -> None:
    monkeypatch.setenv("TANYA_EMBEDDER", "hash:64")
    lines = [json.dumps(article(i)) for i in range(12)]
    lines.insert(4, "{not json")
    (tmp_path / "archive").mkdir()
    dump = write_dump(tmp_path / "archive" / "dump.jsonl", lines)
    assert main(["index", "build", "--corpus", str(tmp_path / "archive")]) == 1
    assert f"skipped {dump}:5: not valid JSON" in capsys.readouterr().err
    assert main(["index", "status", "--json"]) == 0
    documents = json.loads(capsys.readouterr().out)["documents"]
    assert [d["doc_id"] for d in documents] == [f"arsip-{i:04d}" for i in range(12)]
