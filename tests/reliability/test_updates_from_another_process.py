"""`tanya index add` / `remove` in another process beside a service on the embedded store
(`tanya serve` without TANYA_CHROMA_URL): the service answers from the change once its
periodic manifest check notices it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import assistant.service
import index.store
from assistant.service import TanyaService
from index.documents import Document
from index.embedders import HashEmbedder
from index.errors import StoreUnavailableError
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


def test_a_failed_reopening_is_tried_again(tanya_home: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    service = TanyaService(session_settings(home=tanya_home, embedder="hash:64",
                                            reader="off"), embedder=HashEmbedder(64))
    service.build([Document("cuaca", "Cuaca", "id", OTHER, "cuaca.txt")])
    service.ask(QUESTION)  # serving: the index is loaded
    article = tmp_path / "zorblat.id.txt"
    article.write_text(ZORBLAT, encoding="utf-8")
    _tanya(tanya_home, "index", "add", str(article))
    real, calls = assistant.service.reopen_embedded_client, []

    def locked_once(home: Path) -> object:
        calls.append(home)
        if len(calls) == 1:
            raise StoreUnavailableError("the store is busy")
        return real(home)

    monkeypatch.setattr(assistant.service, "reopen_embedded_client", locked_once)
    service._recheck_at = 0.0
    with pytest.raises(StoreUnavailableError):
        service.ask(QUESTION)
    # The next question reopens (the manifest check is seconds away: it is still due).
    assert service.ask(QUESTION).passages[0].doc_id == "zorblat"
    assert len(calls) == 2


def test_the_replaced_system_is_retired_after_the_questions_in_flight(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from chromadb.api.shared_system_client import SharedSystemClient

    index.store.open_client(tmp_path)
    old = SharedSystemClient._identifier_to_system[str(tmp_path / "chroma")]
    retired: list[object] = []
    monkeypatch.setattr(index.store, "_retire_later", retired.append)
    index.store.reopen_embedded_client(tmp_path)
    assert retired == [old]
    assert SharedSystemClient._identifier_to_system[str(tmp_path / "chroma")] is not old

    class System:
        stopped = 0

        def stop(self) -> None:
            self.stopped += 1

    system = System()
    monkeypatch.undo()
    index.store._retire_later(system, seconds=0.0).join(timeout=10)
    assert system.stopped == 1
