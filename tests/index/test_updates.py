"""Single-document updates (``index.updates``): exactly the changed chunks, a switch a
reader sees whole, nothing half-indexed when killed, replaced versions dropped later."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from assistant.diagnostics import check_index
from assistant.errors import CorpusError, DocumentNotFoundError
from assistant.service import TanyaService
from index import updates
from index.documents import Document
from index.embedders import HashEmbedder
from index.manifest import DocumentRecord, Manifest, revision_of
from index.updates import DocumentUpdater, drop_unserved
from tests.support.settings import session_settings


def _doc(doc_id: str, version: str, paragraphs: int = 3, **meta: str) -> Document:
    text = "\n\n".join(
        f"Kota {doc_id.capitalize()} memiliki {version} menara biru di tepi sungai nomor {i}. "
        f"Para pedagang menjual kain {version} setiap pagi di pasar besar kota itu, dan wali "
        f"kota mencatat {version} kapal yang berlabuh di pelabuhan tua sepanjang musim "
        f"hujan tahun lalu, menurut laporan resmi."
        for i in range(paragraphs))
    return Document(doc_id, doc_id.capitalize(), "id", text, f"{doc_id}.txt", **meta)


@pytest.fixture
def service(tanya_home: Path) -> TanyaService:
    service = TanyaService(session_settings(home=tanya_home, embedder="hash:64"),
                           embedder=HashEmbedder(64))
    service.build([_doc("alpha", "tujuh"), _doc("beta", "dua")])
    return service


def _updater(service: TanyaService) -> DocumentUpdater:
    return DocumentUpdater(service.store, service.embedder)


def _ids(service: TanyaService, doc_id: str) -> list[str]:
    return service.store.chunk_ids(service.store.read_manifest().generation, doc_id)


def _texts(service: TanyaService, question: str) -> list[str]:
    return [p.text for p in service.retrieve(question, k=10)]


def test_add_change_unchanged_remove(service: TanyaService) -> None:
    beta = _ids(service, "beta")
    report = _updater(service).apply([_doc("gamma", "lima"), _doc("alpha", "tujuh")])
    assert report.ids("added") == ["gamma"] and report.ids("unchanged") == ["alpha"]
    assert report.chunks_embedded == len(_ids(service, "gamma")) > 0
    # Unchanged: nothing embedded, nothing written.
    again = _updater(service).apply([_doc("gamma", "lima")])
    assert again.ids("unchanged") == ["gamma"] and again.chunks_embedded == 0
    assert not again.changed_anything

    alpha_before = _ids(service, "alpha")
    changed = _updater(service).apply([_doc("alpha", "sembilan", paragraphs=2)])
    assert changed.ids("changed") == ["alpha"] and changed.chunks_embedded == 2
    manifest = service.store.read_manifest()
    record = manifest.documents["alpha"]
    assert record.chunks == 2 and record.revision
    served = [c for c in _ids(service, "alpha") if manifest.serves("alpha", c)]
    assert len(served) == 2 and all(revision_of(c) == record.revision for c in served)
    assert _ids(service, "beta") == beta, "other documents are not touched"
    # The replaced version waits, unserved, and no question sees it.
    assert set(alpha_before) <= set(_ids(service, "alpha"))
    service.reload()
    texts = " ".join(_texts(service, "Berapa menara biru di kota Alpha?"))
    assert "sembilan" in texts and "tujuh" not in texts

    removed = _updater(service).apply(remove=["beta"])
    assert removed.ids("removed") == ["beta"]
    service.reload()
    assert all(p.doc_id != "beta" for p in service.retrieve("pedagang kain dua kapal", k=10))
    assert sorted(service.store.read_manifest().documents) == ["alpha", "gamma"]


def test_mistakes_change_nothing(service: TanyaService) -> None:
    before = service.store.read_manifest()
    with pytest.raises(DocumentNotFoundError, match="no document 'nope'"):
        _updater(service).apply([_doc("gamma", "lima")], remove=["nope"])
    with pytest.raises(CorpusError, match="given twice"):
        _updater(service).apply([_doc("gamma", "lima"), _doc("gamma", "enam")])
    assert service.store.read_manifest() == before


def test_a_reader_on_the_old_manifest_sees_the_old_version_whole(
        service: TanyaService) -> None:
    question = "Berapa menara biru di kota Alpha?"
    old = _texts(service, question)
    assert any("tujuh" in t for t in old)
    _updater(service).apply([_doc("alpha", "sembilan")])
    # `service` has not re-read the manifest: both versions are in the store now, and it
    # still answers from the old one only.
    assert _texts(service, question) == old
    service.reload()
    new = _texts(service, question)
    assert any("sembilan" in t for t in new) and not any("tujuh" in t for t in new)


class _Killed(RuntimeError):
    pass


def test_killed_midway_leaves_the_index_as_it_was_and_the_next_update_cleans_up(
        service: TanyaService, monkeypatch: pytest.MonkeyPatch) -> None:
    before = service.store.read_manifest()
    question = "Berapa menara biru di kota Alpha?"
    answer = _texts(service, question)
    store_chunks = service.store.add_chunks

    def stored_then_killed(*args: Any) -> None:
        store_chunks(*args)  # some chunks of the new version are in the store...
        raise _Killed  # ...when the process dies

    monkeypatch.setattr(service.store, "add_chunks", stored_then_killed)
    with pytest.raises(_Killed):
        _updater(service).apply([_doc("alpha", "sembilan")])
    monkeypatch.undo()
    after = service.store.read_manifest()
    assert after.documents == before.documents, "nothing switched"
    assert [u.doc_id for u in after.unserved] == ["alpha"], "what it wrote is listed"
    service.reload()
    assert _texts(service, question) == answer, "questions never see the half version"
    assert check_index(service.settings, service.store, service.embedder).ok

    assert any("@" in c for c in _ids(service, "alpha"))
    # Once the listing is old enough, the next update removes the half-written chunks.
    monkeypatch.setattr(updates, "KEEP_UNSERVED_SECONDS", 0.0)
    assert _updater(service).apply([_doc("alpha", "tujuh")]).ids("unchanged") == ["alpha"]
    assert all("@" not in c for c in _ids(service, "alpha"))
    assert service.store.read_manifest().unserved == []


def test_replaced_versions_are_dropped_after_the_grace(service: TanyaService) -> None:
    _updater(service).apply([_doc("alpha", "sembilan")], remove=["beta"])
    manifest = service.store.read_manifest()
    assert len(manifest.unserved) == 2
    assert not drop_unserved(service.store, manifest), "too young: questions may read them"
    assert drop_unserved(service.store, manifest, older_than=0.0)
    manifest = service.store.read_manifest()
    assert manifest.unserved == [] and _ids(service, "beta") == []
    assert len(_ids(service, "alpha")) == manifest.documents["alpha"].chunks
    counts = service.store.counts(manifest.generation)
    assert counts["chunks"] == manifest.chunk_count
    assert check_index(service.settings, service.store, service.embedder).ok


def test_diagnostics_accept_waiting_versions_and_name_strays(service: TanyaService) -> None:
    _updater(service).apply([_doc("alpha", "sembilan")])
    check = check_index(service.settings, service.store, service.embedder)
    assert check.ok, check.problems
    manifest = service.store.read_manifest()
    manifest.unserved = []  # forget them: now they are strays
    service.store.write_manifest(manifest)
    check = check_index(service.settings, service.store, service.embedder)
    assert any("document 'alpha'" in p.message and "not in the manifest" in p.message
               for p in check.problems)


def test_a_build_after_document_updates(service: TanyaService) -> None:
    """`tanya index build --corpus` over documents the API replaced: switched the same way."""
    first = _updater(service).apply([_doc("alpha", "sembilan")])
    assert first.ids("changed") == ["alpha"]
    api_revision = service.store.read_manifest().documents["alpha"].revision
    report = service.build([_doc("alpha", "sepuluh"), _doc("beta", "dua")])
    assert report.changed == ["alpha"] and report.unchanged == ["beta"]
    manifest = service.store.read_manifest()
    assert manifest.documents["alpha"].revision not in ("", api_revision)
    assert {u.revision for u in manifest.unserved if u.doc_id == "alpha"} >= {api_revision}
    assert check_index(service.settings, service.store, service.embedder).ok
    texts = " ".join(_texts(service, "Berapa menara biru di kota Alpha?"))
    assert "sepuluh" in texts and "sembilan" not in texts


def test_first_update_of_an_unbuilt_index_builds_it(tanya_home: Path) -> None:
    service = TanyaService(session_settings(home=tanya_home, embedder="hash:64"),
                           embedder=HashEmbedder(64))
    report = _updater(service).apply([_doc("alpha", "tujuh")])
    assert report.ids("added") == ["alpha"]
    assert list(service.manifest().documents) == ["alpha"]
    other = TanyaService(replace(service.settings, index="other"), embedder=HashEmbedder(64))
    with pytest.raises(CorpusError, match="not built yet; nothing to remove"):
        _updater(other).apply(remove=["alpha"])


def test_records_carry_metadata_and_old_manifests_still_load(service: TanyaService) -> None:
    doc = _doc("delta", "empat", url="https://news.example/delta", published="2024-03-05",
               author="Siti")
    _updater(service).apply([doc])
    record = service.store.read_manifest().documents["delta"]
    assert (record.url, record.published, record.author) == (
        "https://news.example/delta", "2024-03-05", "Siti")
    shown = next(d for d in service.status()["documents"] if d["doc_id"] == "delta")
    assert shown["url"] == "https://news.example/delta" and shown["author"] == "Siti"
    # A manifest written before these fields (and one with a field from a newer Tanya).
    old = {"name": "x", "generation": "g1", "embedder": "hash:64", "dim": 64, "chunker": {},
           "documents": {"a": {"content_hash": "h", "title": "A", "lang": "id",
                               "source": "a.txt", "chunks": 2, "someday": 1}}}
    manifest = Manifest.from_json(json.dumps(old))
    assert manifest.documents["a"] == DocumentRecord("h", "A", "id", "a.txt", 2)
    assert manifest.unserved == [] and manifest.serves("a", "a:0000")
    assert not manifest.serves("a", "a:0000@abc") and not manifest.serves("b", "b:0000")
