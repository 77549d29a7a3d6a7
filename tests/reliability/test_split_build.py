"""A split build for real: two `tanya index build --part` worker processes, each with its
own TANYA_HOME as if on its own machine, embed one corpus into one real `chroma run`.

What must hold: the workers embed disjoint parts that together are the whole corpus; the
index they leave equals a one-worker build of the same corpus; nothing switches before the
last part ends, and `tanya index status` says how far the build is meanwhile."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.reliability.processes import spawn_tanya, tanya
from tests.support.servers import ChromaServer

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DOCS = 60


def _corpus(path: Path) -> Path:
    """A JSONL dump of ``DOCS`` articles of one to four paragraphs; article 17 alone names
    the Quenta bridge."""
    lines = []
    for i in range(DOCS):
        paragraphs = [f"Laporan {i}-{p}: pasar ikan di pelabuhan {i} ramai sejak pagi, kata "
                      f"petugas setempat kepada wartawan pada hari ke-{p}."
                      for p in range(1 + i % 4)]
        if i == 17:
            paragraphs.append("Jembatan Quenta sepanjang 840 meter dibuka oleh wali kota.")
        lines.append(json.dumps({"id": f"berita-{i:02d}", "title": f"Berita {i}",
                                 "text": "\n\n".join(paragraphs)}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _env(chroma: ChromaServer, index: str) -> dict[str, str]:
    return {"TANYA_EMBEDDER": "hash:64", "TANYA_CHROMA_URL": chroma.url, "TANYA_INDEX": index,
            "TANYA_READER": "off"}


def _status(home: Path, env: dict[str, str]) -> dict:
    done = tanya(home, "index", "status", "--json", env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _index_check(home: Path, env: dict[str, str]) -> dict:
    done = tanya(home, "check", "--json", env=env)
    checks = json.loads(done.stdout)["checks"]
    return next(c for c in checks if c["name"] == "index")


def test_two_worker_processes_build_one_index_on_one_chroma_server(
        chroma_server: ChromaServer, tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "dump.jsonl")
    env = _env(chroma_server, "split-two")
    workers = [spawn_tanya(tmp_path / f"machine{i}", "index", "build", "--corpus", str(corpus),
                           "--part", f"{i}/2", env=env) for i in (1, 2)]
    said = [worker.communicate(timeout=300)[1] for worker in workers]
    assert [w.returncode for w in workers] == [0, 0], said
    embedded = []
    for i, text in enumerate(said, 1):
        line = next(line for line in text.splitlines() if line.startswith(f"part {i}/2:"))
        embedded.append(int(line.split(" documents, ")[1].split(" chunks")[0]))
    assert all(embedded), said  # both workers did some of the work
    assert any("switched" in text for text in said), said

    whole = {**env, "TANYA_INDEX": "split-one"}
    built = tanya(tmp_path / "machine3", "index", "build", "--corpus", str(corpus), env=whole)
    assert built.returncode == 0, built.stderr
    split, one = _status(tmp_path / "machine3", env), _status(tmp_path / "machine3", whole)
    assert [d["doc_id"] for d in split["documents"]] == [f"berita-{i:02d}" for i in range(DOCS)]
    assert split["documents"] == one["documents"]
    assert (split["chunks"], split["sentences"]) == (one["chunks"], one["sentences"])
    assert sum(embedded) == one["chunks"]  # disjoint parts: no chunk embedded twice
    assert split["split_builds"] == []

    asked = tanya(tmp_path / "machine3", "ask", "--json", "Berapa panjang jembatan Quenta?",
                  env=env)
    assert asked.returncode == 0, asked.stderr
    # Retrieval, not the refusal: the hash embedder is not what refusal is calibrated for.
    assert json.loads(asked.stdout)["passages"][0]["doc_id"] == "berita-17"


def test_the_old_index_serves_until_the_last_part_ends(
        chroma_server: ChromaServer, tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "dump.jsonl")
    env = _env(chroma_server, "split-wait")
    home = tmp_path / "home"
    first = tanya(home, "index", "build", "--corpus", str(corpus), "--part", "1/2", env=env)
    assert first.returncode == 0, first.stderr
    assert "1 of 2 parts done" in first.stderr
    waiting = tanya(home, "index", "status", env=env)
    assert waiting.returncode != 0 and "1 of 2 parts done" in waiting.stderr
    assert "1 of 2 parts done" in _index_check(home, env)["problems"][0]["message"]

    second = tanya(home, "index", "build", "--corpus", str(corpus), "--part", "2/2", env=env)
    assert second.returncode == 0 and "switched" in second.stderr, second.stderr
    assert len(_status(home, env)["documents"]) == DOCS
    assert _index_check(home, env)["problems"] == []
    again = tanya(home, "index", "build", "--corpus", str(corpus), "--part", "2/2", env=env)
    assert "already serves this build" in again.stderr, again.stderr
    assert "0 chunks embedded" in again.stderr

    bad = tanya(home, "index", "build", "--corpus", str(corpus), "--part", "3/2", env=env)
    assert bad.returncode != 0 and "I/N" in bad.stderr and "Traceback" not in bad.stderr
