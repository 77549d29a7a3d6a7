"""Items 8 and 9 with real processes: a build killed with SIGKILL mid-way, a second build
while one runs, a server started on an index built with another embedder, and an index
reopened by fresh processes after repeated builds.

Already proven in one process: a rebuild failing mid-way leaves the previous generation
serving, an embedder mismatch is refused by ask and build (tests/index/test_store.py), a
held lock refuses a build (tests/index/test_index_cli.py)."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import time
from pathlib import Path

import pytest

from assistant.cli import main
from assistant.service import TanyaService
from index.chunking import ChunkerConfig, chunk_document
from index.documents import load_corpus
from index.embedders import HashEmbedder
from tests.reliability.processes import spawn_tanya, tanya
from tests.support.servers import free_port, wait_until
from tests.support.settings import session_settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]
HASH = {"TANYA_EMBEDDER": "hash:64"}
_WORDS = ("kyiv moskwa jaminan keamanan perundingan damai pasukan eropa amerika serikat "
          "nato wilayah").split()


def write_corpus(folder: Path, files: int, paragraphs: int) -> Path:
    """Synthetic Indonesian-looking documents: many chunks, cheap to embed."""
    rnd = random.Random(7)
    folder.mkdir(parents=True, exist_ok=True)
    for f in range(files):
        paras = [" ".join(" ".join(rnd.choice(_WORDS) for _ in range(12)).capitalize() + "."
                          for _ in range(3)) + f" Paragraf {f}-{p}." for p in range(paragraphs)]
        (folder / f"doc{f:02d}.id.txt").write_text("\n\n".join(paras), encoding="utf-8")
    return folder


def _size(folder: Path) -> int:
    """Bytes under ``folder``, tolerating files that vanish while a build writes."""
    total = 0
    for path in folder.rglob("*"):
        with contextlib.suppress(OSError):
            total += path.stat().st_size if path.is_file() else 0
    return total


def _service(home: Path) -> TanyaService:
    return TanyaService(session_settings(home=home, embedder="hash:64"), embedder=HashEmbedder(64))


def test_killed_build_leaves_the_index_serving_and_a_second_build_is_refused(
        tanya_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TANYA_EMBEDDER", "hash:64")
    assert main(["index", "build"]) == 0  # the bundled article: the index that serves
    before = _service(tanya_home)
    serving = before.manifest()
    answer = before.ask("What does Kyiv demand?").answer
    big = write_corpus(tmp_path / "big", files=30, paragraphs=80)  # ~2400 chunks, ~13 s

    stored = _size(tanya_home / "chroma")
    build = spawn_tanya(tanya_home, "index", "build", "--rebuild", "--corpus", str(big),
                        env=HASH)
    try:
        lock = tanya_home / "locks" / "build-default.lock"
        wait_until(lambda: lock.read_text() == f"pid {build.pid}", 30, "the build's lock")
        second = tanya(tanya_home, "index", "build", env=HASH)
        assert second.returncode == 2
        assert "another `tanya index build` is running on index 'default'" in second.stderr
        assert f"pid {build.pid}" in second.stderr and "Traceback" not in second.stderr
        # Kill it once it has written part of the new generation (the store grows).
        wait_until(lambda: _size(tanya_home / "chroma") > stored + 2_000_000, 30, "writes")
        assert build.poll() is None, "the first build was still running"
        os.kill(build.pid, signal.SIGKILL)
    finally:
        build.kill()
        build.wait(10)

    after = _service(tanya_home)
    assert after.manifest().generation == serving.generation
    assert after.manifest().documents.keys() == serving.documents.keys()
    counts = after.store.counts(serving.generation)
    assert counts["chunks"] == serving.chunk_count
    assert after.ask("What does Kyiv demand?").answer == answer
    assert len(after.store.generations()) == 2, "the killed build left its half generation"

    capsys.readouterr()
    assert main(["check"]) == 1
    out = capsys.readouterr().out
    assert "unfinished generation(s) left by an interrupted build" in out
    assert "fix: tanya index build --embedder hash:64 (it removes them)" in out
    assert main(["index", "build"]) == 0  # the bundled article again: up to date, cleaned
    assert _service(tanya_home).store.generations() == [serving.generation]
    assert main(["check"]) == 0


def test_serve_refuses_an_index_built_with_another_embedder(tanya_home: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    monkeypatch.setenv("TANYA_EMBEDDER", "hash:64")
    assert main(["index", "build"]) == 0
    started = time.monotonic()
    serve = tanya(tanya_home, "serve", "--port", str(free_port()), "--embedder", "hash:32",
                  timeout=60)
    assert serve.returncode == 2, serve.stderr
    last = serve.stderr.strip().splitlines()[-1]
    assert last.startswith("tanya: index 'default' was built with hash:64 (64-dim), not "
                           "hash:32") and "--rebuild" in last
    assert "Traceback" not in serve.stderr and "Uvicorn running" not in serve.stderr
    assert time.monotonic() - started < 30


def test_reopened_by_fresh_processes_after_repeated_builds(tanya_home: Path,
                                                           tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus", files=3, paragraphs=12)
    first = tanya(tanya_home, "index", "build", "--corpus", str(corpus), env=HASH)
    assert first.returncode == 0 and "3 added" in first.stderr
    again = tanya(tanya_home, "index", "build", "--corpus", str(corpus), env=HASH)
    assert again.returncode == 0 and "up to date" in again.stderr
    status = tanya(tanya_home, "index", "status", "--json", env=HASH)
    assert status.returncode == 0

    docs, _ = load_corpus([corpus])
    expected = sorted(c.chunk_id for d in docs for c in chunk_document(d, ChunkerConfig()))
    reopened = _service(tanya_home)  # this test process never opened the store before
    manifest = reopened.manifest()
    ids = reopened.store.chunk_ids(manifest.generation)
    assert ids == expected and len(ids) == len(set(ids)), "same ids, no duplicates"
    assert sorted(manifest.documents) == sorted(d.doc_id for d in docs)
    assert reopened.store.generations() == [manifest.generation]
    sentences = sum(len(c.sentences) for d in docs for c in chunk_document(d, ChunkerConfig()))
    assert reopened.store.counts(manifest.generation) == {"chunks": len(expected),
                                                          "sentences": sentences}
    shown = json.loads(status.stdout)
    assert shown["chunks"] == len(expected) and shown["sentences"] == sentences
    assert [d["doc_id"] for d in shown["documents"]] == sorted(d.doc_id for d in docs)


def test_a_rebuild_by_another_writer_is_picked_up_while_serving(tanya_home: Path) -> None:
    serving = _service(tanya_home)
    serving.build()
    quote = serving.ask("What does Kyiv demand?").citations[0].quote
    # Another writer (a second service on the same client, as a second process would be
    # through a Chroma server) rebuilds the index.
    other = TanyaService(serving.settings, embedder=HashEmbedder(64),
                         client=serving.store.client)
    other.build(rebuild=True)
    answer = serving.ask("What does Kyiv demand?")
    assert not answer.refused and answer.citations[0].quote == quote
    assert serving.store.generations() == [other.manifest().generation], "no empty orphan"
