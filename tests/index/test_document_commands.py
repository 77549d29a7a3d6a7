"""`tanya index add/remove/list` as a user runs them: add and replace only, remove only,
clear messages and a non-zero exit on problems."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.cli import main

ARTICLE = "jaminan-keamanan-ukraina"


@pytest.fixture(autouse=True)
def _hash_embedder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANYA_EMBEDDER", "hash:64")


def _listed(capsys: pytest.CaptureFixture[str]) -> dict:
    capsys.readouterr()
    assert main(["index", "list", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_add_replaces_only_what_it_is_given(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["index", "build"]) == 0
    (tmp_path / "zorblat.id.md").write_text("# Kota Zorblat\n\nTujuh menara biru.",
                                            encoding="utf-8")
    dump = tmp_path / "dump.jsonl"
    dump.write_text(json.dumps({"id": "a-1", "title": "A", "url": "https://x.example/a",
                                "published": "2024-01-02", "text": "<p>Halo.</p>"}) + "\n",
                    encoding="utf-8")
    capsys.readouterr()
    assert main(["index", "add", str(tmp_path)]) == 0
    assert "index 'default': 2 added, 0 changed, 0 removed, 0 unchanged; 2 chunks embedded" \
        in capsys.readouterr().err
    listed = _listed(capsys)
    assert [d["id"] for d in listed["documents"]] == ["a-1", ARTICLE, "zorblat"], \
        "the article a build indexed is still there"
    assert listed["documents"][0]["url"] == "https://x.example/a"

    (tmp_path / "zorblat.id.md").write_text("# Kota Zorblat\n\nSembilan menara.",
                                            encoding="utf-8")
    assert main(["index", "add", str(tmp_path / "zorblat.id.md"), str(dump)]) == 0
    assert "0 added, 1 changed, 0 removed, 1 unchanged; 1 chunks embedded" in \
        capsys.readouterr().err

    assert main(["index", "list"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[0].split("\t") == ["a-1", "1 chunks", "2024-01-02", "A",
                                               "https://x.example/a"]
    assert "3 of 3 documents in index 'default'" in err
    assert main(["index", "status"]) == 0
    assert "2024-01-02, https://x.example/a" in capsys.readouterr().out


def test_remove_removes_only_what_it_names(capsys: pytest.CaptureFixture[str],
                                           tmp_path: Path) -> None:
    (tmp_path / "one.txt").write_text("Satu.", encoding="utf-8")
    (tmp_path / "two.txt").write_text("Dua.", encoding="utf-8")
    assert main(["index", "add", str(tmp_path)]) == 0
    assert [d["id"] for d in _listed(capsys)["documents"]] == ["one", "two"], \
        "on an unbuilt index, add builds one of just these"
    assert main(["index", "remove", "one", "nope"]) == 2
    err = capsys.readouterr().err
    assert "tanya: no document 'nope' in index 'default'; nothing was changed" in err
    assert main(["index", "remove", "one"]) == 0
    assert "index 'default': removed one" in capsys.readouterr().err
    assert [d["id"] for d in _listed(capsys)["documents"]] == ["two"]
    assert main(["index", "list", "--offset", "1"]) == 0
    out, err = capsys.readouterr()
    assert out == "" and "0 of 1 documents" in err


def test_problems_are_named_and_exit_non_zero(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "good.txt").write_text("Baik.", encoding="utf-8")
    (tmp_path / "dump.jsonl").write_text('{"id": "ok", "text": "Baik."}\nnot json\n',
                                         encoding="utf-8")
    (tmp_path / "notes.docx").write_bytes(b"PK")
    code = main(["index", "add", str(tmp_path), str(tmp_path / "notes.docx"),
                 str(tmp_path / "missing.txt")])
    err = capsys.readouterr().err
    assert code == 1
    assert f"skipped {tmp_path / 'dump.jsonl'}:2: not valid JSON" in err
    assert "notes.docx: unsupported file type" in err
    assert "missing.txt: no such file or directory" in err
    assert "2 added" in err, "the good ones are indexed"
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    assert main(["index", "add", str(tmp_path / "empty.txt")]) == 2
    assert "no usable documents among the paths given; nothing was changed" in \
        capsys.readouterr().err
    assert main(["index", "add", str(tmp_path / "good.txt"), "--embedder", "hash:32"]) == 2
    assert "was built with hash:64" in capsys.readouterr().err
    assert main(["index", "list", "--limit", "-1"]) == 2
    assert [d["id"] for d in _listed(capsys)["documents"]] == ["good", "ok"]
