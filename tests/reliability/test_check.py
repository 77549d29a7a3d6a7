"""`tanya check`: each problem it can find, the one line that names it with the command to
run, the exit code, and --json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant import diagnostics
from assistant.cli import main
from assistant.service import TanyaService
from index.embedders import HashEmbedder
from index.manifest import DocumentRecord
from tests.reliability.processes import tanya
from tests.support.servers import free_port

DOC = "jaminan-keamanan-ukraina"


@pytest.fixture(autouse=True)
def _hash_embedder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANYA_EMBEDDER", "hash:64")


def check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    code = main(["check", "--json", *args])
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is (code == 0)
    return code, {c["name"]: c for c in report["checks"]}


def problems(report: dict[str, Any], name: str) -> list[str]:
    return [f"{p['message']}; fix: {p['fix']}" for p in report[name]["problems"]]


def test_a_healthy_installation_passes(hash_service: TanyaService,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in out[:4]] == [
        ["ok", "installation"], ["ok", "embedder"], ["ok", "store"], ["ok", "index"]]
    assert "chromadb" in out[0] and "gradio" in out[0]
    assert "hash:64: 64-dim vectors" in out[1]
    assert out[-1] == "all checks passed"
    code, report = check(capsys)
    assert code == 0 and all(c["ok"] for c in report.values())


def test_an_unbuilt_index_says_to_build_it(capsys: pytest.CaptureFixture[str],
                                           tanya_home: Path) -> None:
    code, report = check(capsys)
    assert code == 1 and report["store"]["ok"] and "not created yet" in report["store"]["detail"]
    assert problems(report, "index") == [
        "index 'default' is not built; fix: tanya index build --embedder hash:64"]
    assert not (tanya_home / "chroma").exists(), "checking created nothing"


def test_another_embedder_says_how_to_rebuild(hash_service: TanyaService,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    code, report = check(capsys, "--embedder", "hash:32")
    assert code == 1
    [problem] = problems(report, "index")
    assert "was built with hash:64" in problem
    assert problem.endswith("fix: tanya index build --rebuild --embedder hash:32")


def test_counts_that_disagree_with_the_manifest_are_named(
        hash_service: TanyaService, capsys: pytest.CaptureFixture[str]) -> None:
    store, manifest = hash_service.store, hash_service.manifest()
    chunks, sentences = (store.client.get_collection(n, embedding_function=None)
                         for n in store.collection_names(manifest.generation))
    first = store.chunk_ids(manifest.generation, DOC)[0]
    chunks.delete(ids=[first])
    sentences.delete(ids=[f"{first}:s000"])
    manifest.documents["ghost"] = DocumentRecord("x", "Ghost", "en", "ghost.txt", 3)
    store.write_manifest(manifest)
    sentences.upsert(ids=["stray"], embeddings=np.zeros((1, 64)) + 0.1, documents=["x"])
    code, report = check(capsys)
    assert code == 1
    found = problems(report, "index")
    rebuild = "fix: tanya index build --rebuild --embedder hash:64"
    chunk_count = manifest.documents[DOC].chunks
    assert (f"document '{DOC}': the manifest lists {chunk_count} chunks, the store holds "
            f"{chunk_count - 1}; {rebuild}") in found
    assert f"document 'ghost': the manifest lists 3 chunks, the store holds 0; {rebuild}" in found
    assert any(p.startswith("the chunks list ") and "sentence vectors" in p for p in found)


def test_an_unfinished_update_is_named(hash_service: TanyaService,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    manifest = hash_service.manifest()
    manifest.documents[DOC].content_hash = "pending"
    hash_service.store.write_manifest(manifest)
    code, report = check(capsys)
    assert code == 1 and f"document '{DOC}': its last update did not finish" in \
        problems(report, "index")[0]


def test_an_unreachable_server_skips_the_index(capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("TANYA_CHROMA_URL", url)
    code, report = check(capsys)
    assert code == 1
    [problem] = problems(report, "store")
    assert problem.startswith(f"the Chroma server at {url} does not answer")
    assert problem.endswith("fix: start it (`chroma run --path DIR --port PORT`) or unset "
                            "TANYA_CHROMA_URL")
    assert report["index"]["skipped"] and not report["index"]["ok"]
    capsys.readouterr()
    assert main(["check"]) == 1
    assert any(line.startswith("skip  index") for line in capsys.readouterr().out.splitlines())


def test_an_unwritable_store_is_named(tanya_home: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    tanya_home.mkdir(parents=True)
    (tanya_home / "chroma").write_text("not a directory")  # fails for root as well
    code, report = check(capsys)
    assert code == 1
    [problem] = problems(report, "store")
    assert "is not writable" in problem and "set TANYA_HOME" in problem


def test_broken_embedders_and_packages_are_named(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, report = check(capsys, "--embedder", "hash:4")
    assert code == 1 and "hash:4 does not load or embed" in problems(report, "embedder")[0]

    class Shrunk(HashEmbedder):
        def embed_question(self, text: str) -> np.ndarray:
            return super().embed_question(text)[:10]

    monkeypatch.setattr(diagnostics, "make_embedder", lambda spec: Shrunk(64))
    monkeypatch.setitem(diagnostics.REQUIRED, "no-such-dist", "no_such_module")
    monkeypatch.setattr(diagnostics, "_declared_requirements",
                        lambda: {"numpy": _specifier("<1")})
    code, report = check(capsys)
    assert code == 1
    assert "declares 64 dimensions but gave vectors of shape (10,)" in \
        problems(report, "embedder")[0]
    found = problems(report, "installation")
    assert "no-such-dist cannot be imported (PackageNotFoundError); fix: pip install -e . " \
           "(or `make setup`) to install no-such-dist" in found
    assert any(p.startswith("numpy ") and p.endswith("fix: pip install 'numpy<1'")
               for p in found)


def _specifier(text: str) -> Any:
    from packaging.specifiers import SpecifierSet

    return SpecifierSet(text)


@pytest.mark.integration
def test_a_fresh_install_with_the_default_embedder(tmp_path: Path) -> None:
    result = tanya(tmp_path / "fresh", "check", "--json", timeout=120)
    assert result.returncode == 1, result.stderr
    report = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert report["installation"]["ok"] and report["embedder"]["ok"]
    assert report["embedder"]["detail"].startswith("e5-small-q4: 384-dim vectors")
    assert report["store"]["ok"]
    assert report["index"]["problems"] == [
        {"message": "index 'default' is not built", "fix": "tanya index build"}]


def _calibrated(monkeypatch: pytest.MonkeyPatch, **entry: Any) -> None:
    """A calibration whose reader entry is made for the shipped adapter and ``hash:64``."""
    from assistant import calibration
    from assistant.reader.adapter import load_shipped

    reader = {"adapter_sha256": load_shipped().sha256, "embedder": "hash:64",
              "threshold": 0.0, **entry}
    monkeypatch.setattr(calibration, "load_calibration", lambda: {"reader": reader})


def test_the_reader_is_checked_only_when_it_is_on(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _, report = check(capsys)
    assert "reader" not in report
    monkeypatch.setenv("TANYA_READER", "on")
    _, report = check(capsys)
    [problem] = problems(report, "reader")
    assert "not calibrated for this adapter and hash:64" in problem, problem
    assert "(it was made for adapter " in problem and "with e5-small-q4)" in problem, problem
    assert problem.endswith("fix: tanya eval calibrate-reader archive-dev ukraina "
                            "ukraina-heldout offtopic --embedder hash:64"), problem
    _calibrated(monkeypatch, reader_chars=440)
    _, report = check(capsys)
    assert report["reader"]["ok"], report["reader"]
    assert "reading 440 characters per passage" in report["reader"]["detail"]


def test_a_window_size_other_than_the_calibrations_is_named(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TANYA_READER", "on")
    monkeypatch.setenv("TANYA_READER_CHARS", "300")
    _calibrated(monkeypatch, reader_chars=440)
    code, report = check(capsys)
    assert code == 1
    [problem] = problems(report, "reader")
    assert "calibrated reading 440 characters per passage, not 300" in problem, problem
    assert "unset TANYA_READER_CHARS, or `tanya eval calibrate-reader" in problem
    assert problem.endswith("--reader-chars 300 --embedder hash:64`"), problem
    monkeypatch.setenv("TANYA_READER_CHARS", "440")
    _calibrated(monkeypatch, reader_chars=300)
    [problem] = problems(check(capsys)[1], "reader")
    assert "fix: set TANYA_READER_CHARS=300, or" in problem, problem
    # A calibration made before it recorded its window size is not second-guessed.
    _calibrated(monkeypatch)
    _, report = check(capsys)
    assert report["reader"]["ok"], report["reader"]


def test_a_missing_adapter_is_named_with_its_fix(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    from assistant.reader import adapter

    monkeypatch.setenv("TANYA_READER", "on")
    monkeypatch.setattr(adapter, "SHIPPED_DIR", tmp_path)
    code, report = check(capsys)
    assert code == 1
    [problem] = problems(report, "reader")
    assert f"the reader's adapter is missing from {tmp_path}" in problem, problem
    assert "fix: reinstall Tanya" in problem and "tanya reader train" in problem


def test_a_broken_calibration_is_one_problem_not_a_traceback(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TANYA_READER", "on")
    _calibrated(monkeypatch, reader_chars="many")
    code, report = check(capsys)
    assert code == 1
    [problem] = problems(report, "reader")
    assert problem.startswith("the reader cannot be checked (invalid literal"), problem


def test_an_own_calibration_file_that_is_missing_or_broken_is_named(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from assistant import calibration

    own = tmp_path / "ours.json"
    monkeypatch.setenv("TANYA_CALIBRATION", str(own))
    calibration.clear_cache()
    code, report = check(capsys)  # the reader off: the file is checked all the same
    assert code == 1
    [problem] = problems(report, "calibration")
    assert f"TANYA_CALIBRATION={own} does not exist" in problem, problem
    assert "writes there" in problem, problem
    own.write_text("{not json")
    calibration.clear_cache()
    monkeypatch.setenv("TANYA_READER", "on")
    code, report = check(capsys)
    [problem] = problems(report, "calibration")
    assert f"fix: fix or delete {own}, or unset TANYA_CALIBRATION" in problem, problem
    assert "its calibration cannot be read" in problems(report, "reader")[0]
    calibration.clear_cache()
