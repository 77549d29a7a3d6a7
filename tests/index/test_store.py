"""One suite, two stores: embedded Chroma and a real `chroma run` server."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from assistant.errors import EmbedderMismatchError, IndexNotBuiltError
from assistant.service import TanyaService
from index import builder
from index.chunking import ChunkerConfig, chunk_document
from index.documents import Document
from index.embedders import HashEmbedder
from index.store import ChromaIndex, open_client
from tests.support.settings import session_settings

# Keep short test paragraphs apart so counts are easy to reason about.
ONE_PARAGRAPH_PER_CHUNK = ChunkerConfig(min_chars=0)


def _docs() -> list[Document]:
    return [
        Document("alpha", "Alpha", "id", "Kyiv menuntut jaminan.\nParagraf kedua alpha.", "a"),
        Document("beta", "Beta", "en", "Moscow wants territory.\nSecond beta paragraph.", "b"),
    ]


@pytest.fixture(params=["embedded", "server"])
def make_service(request, tanya_home):
    url = ""
    if request.param == "server":
        url = request.getfixturevalue("chroma_server").url
    name = f"t{uuid.uuid4().hex[:10]}"

    def make(embedder=None) -> TanyaService:
        embedder = embedder or HashEmbedder(32)
        settings = session_settings(home=tanya_home, chroma_url=url, index=name,
                                    embedder=embedder.spec)
        return TanyaService(settings, embedder=embedder)

    return make


def _counts(service: TanyaService) -> dict[str, int]:
    return service.store.counts(service.manifest().generation)


def _served(service: TanyaService, doc_id: str) -> list[str]:
    manifest = service.manifest()
    return [c for c in service.store.chunk_ids(manifest.generation, doc_id)
            if manifest.serves(doc_id, c)]


def _drop_replaced(service: TanyaService) -> None:
    """What the next update does once no question can still read the old versions."""
    from index.updates import drop_unserved

    manifest = service.store.read_manifest()
    assert manifest is not None and manifest.unserved
    assert drop_unserved(service.store, manifest, older_than=0)


def test_build_stores_every_chunk_and_sentence(make_service):
    service = make_service()
    report = service.build(_docs(), chunker=ONE_PARAGRAPH_PER_CHUNK)
    assert sorted(report.added) == ["alpha", "beta"]
    assert _counts(service) == {"chunks": 4, "sentences": 4}
    assert service.status()["documents"][0]["doc_id"] == "alpha"


def test_rerun_on_unchanged_input_embeds_nothing_and_changes_nothing(make_service):
    service = make_service()
    service.build(_docs(), chunker=ONE_PARAGRAPH_PER_CHUNK)
    before = (service.manifest().generation, service.store.chunk_ids(service.manifest().generation))
    built_at = service.manifest().built_at
    report = service.build(_docs(), chunker=ONE_PARAGRAPH_PER_CHUNK)
    assert report.chunks_embedded == 0 and not report.changed_anything
    assert (service.manifest().generation,
            service.store.chunk_ids(service.manifest().generation)) == before
    assert service.manifest().built_at == built_at


def test_changed_document_replaces_exactly_its_chunks(make_service):
    service = make_service()
    docs = _docs()
    service.build(docs, chunker=ONE_PARAGRAPH_PER_CHUNK)
    generation = service.manifest().generation
    beta_before = service.store.chunk_ids(generation, "beta")
    changed = [replace(docs[0], text="Kyiv menuntut jaminan.\nBaru.\nTiga paragraf sekarang."),
               docs[1]]
    report = service.build(changed, chunker=ONE_PARAGRAPH_PER_CHUNK)
    assert report.changed == ["alpha"] and report.unchanged == ["beta"]
    assert report.chunks_embedded == 3
    manifest = service.manifest()
    revision = manifest.documents["alpha"].revision
    assert _served(service, "alpha") == [f"alpha:{i:04d}@{revision}" for i in range(3)]
    assert service.store.chunk_ids(generation, "beta") == beta_before
    # The old version stays, unserved, for questions already reading it; then it goes.
    _drop_replaced(service)
    assert service.store.chunk_ids(generation, "alpha") == _served(service, "alpha")
    assert _counts(service) == {"chunks": 5, "sentences": 5}


def test_removed_document_chunks_go(make_service):
    service = make_service()
    service.build(_docs(), chunker=ONE_PARAGRAPH_PER_CHUNK)
    report = service.build(_docs()[:1], chunker=ONE_PARAGRAPH_PER_CHUNK)
    assert report.removed == ["beta"]
    generation = service.manifest().generation
    assert list(service.manifest().documents) == ["alpha"] and _served(service, "beta") == []
    _drop_replaced(service)
    assert service.store.chunk_ids(generation, "beta") == []
    assert _counts(service) == {"chunks": 2, "sentences": 2}


def test_rebuild_switches_generation_and_drops_the_old_one(make_service):
    service = make_service()
    service.build(_docs(), chunker=ONE_PARAGRAPH_PER_CHUNK)
    old = service.manifest().generation
    report = service.build(_docs(), rebuild=True, chunker=ONE_PARAGRAPH_PER_CHUNK)
    assert report.rebuilt and service.manifest().generation != old
    assert service.store.generations() == [service.manifest().generation]
    assert _counts(service) == {"chunks": 4, "sentences": 4}


class _Boom(RuntimeError):
    pass


def test_rebuild_killed_midway_leaves_previous_index_serving(make_service, monkeypatch):
    # Two chunks per embedding step, so the build below dies after storing some of its
    # four chunks, not before storing any.
    monkeypatch.setattr(builder, "_STEP", 2)
    service = make_service()
    service.build(_docs(), chunker=ONE_PARAGRAPH_PER_CHUNK)
    serving = service.manifest().generation
    answer_before = service.ask("Kyiv menuntut apa?").citations[0].quote

    class DyingEmbedder(HashEmbedder):
        calls = 0

        def embed_passages(self, texts):
            DyingEmbedder.calls += 1
            if DyingEmbedder.calls > 1:
                raise _Boom("killed")
            return super().embed_passages(texts)

    dying = make_service(DyingEmbedder(32))
    dying.settings = replace(dying.settings, index=service.settings.index)
    dying._store = None
    with pytest.raises(_Boom):
        dying.build(_docs() * 1, rebuild=True, chunker=ONE_PARAGRAPH_PER_CHUNK)
    service.reload()
    assert service.manifest().generation == serving
    assert _counts(service) == {"chunks": 4, "sentences": 4}
    assert service.ask("Kyiv menuntut apa?").citations[0].quote == answer_before
    # the next build cleans up the half-built generation
    service.build(_docs(), chunker=ONE_PARAGRAPH_PER_CHUNK)
    assert service.store.generations() == [serving]


def test_other_embedder_is_refused_with_a_fix(make_service):
    service = make_service()
    service.build(_docs(), chunker=ONE_PARAGRAPH_PER_CHUNK)
    other = make_service(HashEmbedder(48))
    other.settings = replace(other.settings, index=service.settings.index)
    other._store = None
    with pytest.raises(EmbedderMismatchError) as err:
        other.ask("Kyiv?")
    assert "hash:32" in str(err.value) and "--rebuild" in str(err.value)
    with pytest.raises(EmbedderMismatchError):
        other.build(_docs(), chunker=ONE_PARAGRAPH_PER_CHUNK)


def test_missing_index_says_how_to_build(make_service):
    with pytest.raises(IndexNotBuiltError, match="tanya index build"):
        make_service().ask("Kyiv?")


def test_reopen_in_a_fresh_client_sees_same_documents_chunks_ids(make_service):
    service = make_service()
    service.build(_docs(), chunker=ONE_PARAGRAPH_PER_CHUNK)
    service.build(_docs(), chunker=ONE_PARAGRAPH_PER_CHUNK)
    generation = service.manifest().generation
    ids = service.store.chunk_ids(generation)
    reopened = make_service()
    reopened.settings = service.settings
    reopened._store = ChromaIndex(
        open_client(service.settings.home, service.settings.chroma_url), service.settings.index)
    assert reopened.manifest().generation == generation
    assert reopened.store.chunk_ids(generation) == ids
    assert sorted(reopened.manifest().documents) == ["alpha", "beta"]
    expected = sum(len(chunk_document(d, ONE_PARAGRAPH_PER_CHUNK)) for d in _docs())
    assert len(ids) == len(set(ids)) == expected
