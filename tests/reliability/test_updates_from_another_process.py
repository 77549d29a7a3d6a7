"""`tanya index add` / `remove` in another process beside a service on the embedded store
(`tanya serve` without TANYA_CHROMA_URL): the service answers from the change once its
periodic manifest check notices it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.service import TanyaService
from index.documents import Document
from index.embedders import HashEmbedder
from tests.support.settings import session_settings

pytestmark = [pytest.mark.integration]

QUESTION = "Berapa menara biru di kota Zorblat?"
ZORBLAT = ("Kota Zorblat memiliki tujuh menara biru di tepi sungai Quenta. Para pedagang "
           "Zorblat menjual kain setiap pagi di pasar besar kota.")
OTHER = ("Laporan cuaca: hujan ringan turun di wilayah pegunungan sepanjang sore, dan angin "
         "bertiup dari arah barat daya menuju lembah pertanian.")


def _tanya(home: Path, *args: str) -> None:
    """The CLI as another process, on the same TANYA_HOME and embedder."""
    env = {**os.environ, "TANYA_HOME": str(home), "TANYA_EMBEDDER": "hash:64",
           "TANYA_READER": "off"}
    done = subprocess.run([sys.executable, "-m", "assistant", *args], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr


def test_a_document_another_process_adds_is_retrieved(tanya_home: Path,
                                                      tmp_path: Path) -> None:
    service = TanyaService(session_settings(home=tanya_home, embedder="hash:64",
                                            reader="off"), embedder=HashEmbedder(64))
    service.build([Document("cuaca", "Cuaca", "id", OTHER, "cuaca.txt")])
    assert {p.doc_id for p in service.ask(QUESTION).passages} == {"cuaca"}
    article = tmp_path / "zorblat.id.txt"
    article.write_text(ZORBLAT, encoding="utf-8")
    _tanya(tanya_home, "index", "add", str(article))
    service._recheck_at = 0.0  # the next question checks the manifest now, not in seconds
    answer = service.ask(QUESTION)
    # Before the fix the manifest listed zorblat but retrieval never returned its chunk:
    # the process's Chroma system kept the vector index it had loaded.
    assert answer.passages[0].doc_id == "zorblat"
    assert "tujuh menara biru" in answer.answer
    _tanya(tanya_home, "index", "remove", "zorblat")
    service._recheck_at = 0.0
    assert {p.doc_id for p in service.ask(QUESTION).passages} == {"cuaca"}
