"""Split builds: disjoint parts, one shared generation, the switch when the last part ends."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.builder import BuildReport, IndexBuilder
from index.chunking import ChunkerConfig, chunk_document
from index.documents import Document
from index.embedders import HashEmbedder
from index.errors import CorpusError
from index.parts import Part, PartBuilder, split_documents, split_generation
from index.store import ChromaIndex, open_client


class _Counting(HashEmbedder):
    def __init__(self) -> None:
        super().__init__(32)
        self.texts = 0

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        self.texts += len(texts)
        return super().embed_passages(texts)


def _news(n: int) -> list[Document]:
    # Documents of different lengths, so an equal split by count would be unbalanced.
    return [Document(f"doc{i:02d}", f"Berita {i}", "id",
                     "\n".join(f"Paragraf {j} berita {i}. Kalimat kedua {j}."
                               for j in range(1 + i % 4)), f"t{i}")
            for i in range(n)]


def _contents(store: ChromaIndex, generation: str) -> tuple[dict, dict]:
    """Every chunk and sentence row: id -> (text, rounded vector)."""
    rows = []
    for collection in store._collections(generation):
        got = collection.get(include=["documents", "embeddings"])
        rows.append({i: (text, tuple(np.round(np.asarray(v), 5))) for i, text, v
                     in zip(got["ids"], got["documents"], got["embeddings"], strict=True)})
    return rows[0], rows[1]


CONFIG = ChunkerConfig(min_chars=0)


def test_part_parses_i_of_n_and_refuses_anything_else() -> None:
    assert Part.parse("2/3") == Part(2, 3)
    assert str(Part.parse(" 1 / 2 ")) == "1/2"
    for bad in ("0/2", "3/2", "1", "a/b", "1/0", "-1/2"):
        with pytest.raises(CorpusError, match="I/N"):
            Part.parse(bad)


def test_the_split_is_disjoint_complete_balanced_and_independent_of_input_order() -> None:
    planned = [(d, chunk_document(d, CONFIG)) for d in _news(40)]
    split = split_documents(planned, 3)
    ids = [[d.doc_id for d, _ in part] for part in split]
    assert sorted(i for part in ids for i in part) == sorted(d.doc_id for d, _ in planned)
    assert len({i for part in ids for i in part}) == 40
    sizes = [sum(len(c) for _, c in part) for part in split]
    # Each part is within one document's chunks (at most 4) of an equal share.
    assert all(abs(size - sum(sizes) / 3) <= 4 for size in sizes), sizes
    assert [[d.doc_id for d, _ in p] for p in split_documents(planned[::-1], 3)] == ids
    # More parts than documents: some parts are empty, none is lost.
    assert sum(len(p) for p in split_documents(planned[:2], 5)) == 2


def test_every_worker_computes_the_same_generation_and_a_change_gives_a_new_one() -> None:
    docs = _news(5)
    chunker = CONFIG.as_dict()
    same = split_generation(docs[::-1], "hash:32", chunker, 2)
    assert same == split_generation(docs, "hash:32", chunker, 2)
    changed = [*docs[:4], Document("doc04", "Berita 4", "id", "Lain.", "t4")]
    assert split_generation(changed, "hash:32", chunker, 2) != same
    assert split_generation(docs, "hash:32", chunker, 3) != same
    assert split_generation(docs, "hash:64", chunker, 2) != same


def test_two_parts_store_what_one_build_stores_and_switch_only_at_the_end(
        tmp_path: Path) -> None:
    docs = _news(12)
    whole = ChromaIndex(open_client(tmp_path / "whole"), "news")
    IndexBuilder(whole, HashEmbedder(32), CONFIG).build(docs)
    expected = _contents(whole, whole.read_manifest().generation)

    store = ChromaIndex(open_client(tmp_path / "split"), "news")
    old = IndexBuilder(store, HashEmbedder(32), CONFIG).build(docs[:3]).generation
    first, second = _Counting(), _Counting()
    one = PartBuilder(store, first, CONFIG).build_part(docs, Part(1, 2))
    assert (one.parts_done, one.switched) == (1, False)
    assert store.read_manifest().generation == old  # the old index still serves
    two = PartBuilder(store, second, CONFIG).build_part(docs, Part(2, 2))
    assert two.switched and two.rebuilt
    assert not set(one.added) & set(two.added)

    manifest = store.read_manifest()
    assert manifest.generation == one.generation == two.generation
    assert sorted(manifest.documents) == sorted(d.doc_id for d in docs)
    assert manifest.documents == whole.read_manifest().documents
    assert _contents(store, manifest.generation) == expected
    assert store.generations() == [manifest.generation]  # the old generation went
    assert store.finished_parts() == []
    # Each worker embedded its own part only.
    assert first.texts + second.texts == len(expected[0]) + len(expected[1])
    assert first.texts and second.texts


def test_a_worker_run_again_skips_what_it_stored_and_a_finished_build_does_nothing(
        tmp_path: Path) -> None:
    docs = _news(10)
    store = ChromaIndex(open_client(tmp_path), "news")
    generation = split_generation(docs, "hash:32", CONFIG.as_dict(), 2)
    planned = [(d, chunk_document(d, CONFIG)) for d in docs]
    mine = [c for _, chunks in split_documents(planned, 2)[0] for c in chunks]
    # A worker killed after storing three chunks with their sentences, and a fourth
    # whose last sentence it had not stored yet.
    IndexBuilder(store, HashEmbedder(32), CONFIG)._embed_and_store(
        generation, mine[:4], BuildReport(generation), 4)
    assert len(mine[3].sentences) >= 2
    store._collections(generation)[1].delete(ids=[f"{mine[3].chunk_id}:s001"])
    again = _Counting()
    report = PartBuilder(store, again, CONFIG).build_part(docs, Part(1, 2))
    assert report.skipped_chunks == 3
    assert report.chunks_embedded == len(mine) - 3
    assert again.texts == sum(1 + len(c.sentences) for c in mine[3:])

    PartBuilder(store, HashEmbedder(32), CONFIG).build_part(docs, Part(2, 2))
    idle = _Counting()
    rerun = PartBuilder(store, idle, CONFIG).build_part(docs, Part(1, 2))
    assert idle.texts == 0 and not rerun.switched and rerun.parts_done == 2
    assert store.counts(generation)["chunks"] == sum(len(c) for _, c in planned)


def test_other_builds_leave_a_split_build_under_way_and_rebuild_drops_it(
        tmp_path: Path) -> None:
    docs = _news(8)
    store = ChromaIndex(open_client(tmp_path), "news")
    IndexBuilder(store, HashEmbedder(32), CONFIG).build(docs[:2])
    first = PartBuilder(store, HashEmbedder(32), CONFIG).build_part(docs, Part(1, 2))
    # A routine build (say, of what the index held) meanwhile: the split build stays.
    IndexBuilder(store, HashEmbedder(32), CONFIG).build(docs[:3])
    assert first.generation in store.generations()
    assert [p[1] for p in store.finished_parts(first.generation)] == [1]
    # --rebuild replaces everything, the split build's records with its chunks.
    IndexBuilder(store, HashEmbedder(32), CONFIG).build(docs[:3], rebuild=True)
    assert first.generation not in store.generations()
    assert store.finished_parts() == []


def test_a_split_build_whose_chunks_went_is_not_switched_to(tmp_path: Path) -> None:
    docs = _news(8)
    store = ChromaIndex(open_client(tmp_path), "news")
    old = IndexBuilder(store, HashEmbedder(32), CONFIG).build(docs[:2]).generation
    one = PartBuilder(store, HashEmbedder(32), CONFIG).build_part(docs, Part(1, 2))
    # Its records survive a drop that lost its chunks (a store restored from a backup).
    store.client.delete_collection(store.collection_names(one.generation)[0])
    store._handles.clear()
    with pytest.raises(CorpusError, match="nothing was switched"):
        PartBuilder(store, HashEmbedder(32), CONFIG).build_part(docs, Part(2, 2))
    assert store.read_manifest().generation == old
    assert store.finished_parts() == []


def test_a_worker_given_another_corpus_is_told_of_the_other_build(tmp_path: Path) -> None:
    store = ChromaIndex(open_client(tmp_path), "news")
    one = PartBuilder(store, HashEmbedder(32), CONFIG).build_part(_news(8), Part(1, 2))
    other = PartBuilder(store, HashEmbedder(32), CONFIG).build_part(_news(9), Part(2, 2))
    assert not other.switched and other.generation != one.generation
    assert [b["generation"] for b in other.others] == [one.generation]


def test_parts_need_a_chroma_server(capsys: pytest.CaptureFixture[str]) -> None:
    from assistant.cli import main

    assert main(["index", "build", "--part", "1/2", "--embedder", "hash:32"]) == 2
    assert "TANYA_CHROMA_URL" in capsys.readouterr().err
