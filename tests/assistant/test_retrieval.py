"""The retriever: sentence vectors are read from the store once per passage."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import assistant.retrieval
import assistant.service
from assistant.retrieval import ChunkCache
from assistant.service import TanyaService
from index.store import StoredPassage


def test_sentence_vectors_are_read_once_and_answers_do_not_change(
        hash_service: TanyaService, monkeypatch: pytest.MonkeyPatch) -> None:
    question = "Apa tuntutan Kyiv soal Memorandum Budapest?"
    first = hash_service.ask(question)
    retriever = hash_service._load().retriever
    asked: list[int] = []
    fetch = hash_service.store.sentence_vectors

    def counting(generation: str, passages: Any) -> np.ndarray:
        asked.append(len(passages))
        return fetch(generation, passages)

    monkeypatch.setattr(hash_service.store, "sentence_vectors", counting)
    hash_service._query_cache.clear()
    again = hash_service.ask(question)
    assert asked == []  # every candidate's vectors were kept from the first ask
    assert again.answer == first.answer and again.citations == first.citations
    assert [p.score for p in again.passages] == [p.score for p in first.passages]
    assert retriever is hash_service._load().retriever


def test_the_cache_is_bounded_in_bytes(hash_service: TanyaService,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    question = "Apa tuntutan Kyiv soal Memorandum Budapest?"
    unbounded = hash_service.ask(question)
    kept = hash_service._load().retriever._cache
    assert len(kept) >= 10  # the candidates of one question
    sizes = [size for _, size in kept._chunks.values()]
    assert sum(sizes) == kept.nbytes
    budget = sum(sorted(sizes)[:3])
    monkeypatch.setattr(assistant.retrieval, "_CACHE_BYTES", budget)
    hash_service.reload()
    hash_service._query_cache.clear()  # so the question is retrieved again, not recalled
    answer = hash_service.ask(question)
    cache = hash_service._load().retriever._cache
    assert 0 < cache.nbytes <= budget and 1 <= len(cache) <= 3
    # Answered from what was fetched, as without the bound.
    assert answer.answer == unbounded.answer and answer.citations == unbounded.citations


def test_the_query_cache_keeps_the_latest_questions(hash_service: TanyaService,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    assert assistant.service._QUERY_CACHE == 512  # the README's table of what is kept
    monkeypatch.setattr(assistant.service, "_QUERY_CACHE", 3)
    hash_service._query_cache.clear()
    for i in range(6):
        hash_service.ask(f"Apa tuntutan Kyiv nomor {i}?")
    assert len(hash_service._query_cache) == 3
    assert any("nomor 5" in key for key in hash_service._query_cache)


def test_kept_vectors_do_not_hold_the_block_they_were_fetched_in(
        hash_service: TanyaService) -> None:
    """Each kept chunk owns its vectors: a slice of the fetched block would keep all of
    it alive after the other chunks were dropped, past the byte bound."""
    hash_service.ask("What does Kyiv demand?")
    kept = hash_service._load().retriever._cache._chunks.values()
    assert kept and all(chunk.sentence_vectors.base is None for chunk, _ in kept)


def _chunk(chunk_id: str, text: str) -> assistant.retrieval._Chunk:
    passage = StoredPassage(chunk_id, "doc", "Title", "id", "", 0, 0, 0, len(text), text, 0.0,
                            0, ((0, len(text), 0),))
    return assistant.retrieval._Chunk(passage, np.zeros((1, 8), dtype=np.float32))


def test_the_least_recently_used_chunk_goes_first() -> None:
    a, b, c, d = (_chunk(n, n * 100) for n in "abcd")
    cache = ChunkCache(a.size() * 2 + 10)
    cache.put([a, b])
    assert set(cache.get(["a", "b"])) == {"a", "b"}
    cache.get(["a"])  # a is now the most recently used
    cache.put([c])
    assert set(cache.get(["a", "b", "c"])) == {"a", "c"}
    cache.put([d])
    assert set(cache.get(["a", "b", "c", "d"])) == {"c", "d"}
    assert cache.nbytes == c.size() + d.size() <= cache.budget


def test_a_chunk_larger_than_the_budget_is_not_kept() -> None:
    small, big = _chunk("small", "x"), _chunk("big", "y" * 10_000)
    cache = ChunkCache(small.size() + 100)
    cache.put([small, big])
    assert set(cache.get(["small", "big"])) == {"small"}
    cache.put([small])  # kept again: counted once
    assert cache.nbytes == small.size() and len(cache) == 1


def test_the_count_does_not_drift_when_a_kept_text_grows(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A kept chunk's size can change after it was kept: a non-ASCII str grows once
    something caches its UTF-8 form (sqlite3, orjson as Gradio serialises answers). Here
    every later look at a size sees it 100 bytes larger: what is dropped must be what
    was counted."""
    chunks = [_chunk(f"c{i}", f"Zelensky — “jaminan” {i} " * 20) for i in range(10)]
    true_size = assistant.retrieval._Chunk.size
    looked: dict[str, int] = {}

    def growing(chunk: assistant.retrieval._Chunk) -> int:
        looked[chunk.passage.chunk_id] = looked.get(chunk.passage.chunk_id, -1) + 1
        return true_size(chunk) + 100 * looked[chunk.passage.chunk_id]

    monkeypatch.setattr(assistant.retrieval._Chunk, "size", growing)
    cache = ChunkCache(true_size(chunks[0]) * 4)
    cache.put(chunks[:5])
    sizes = [true_size(c) for c in chunks[:5]]
    assert [c.size() for c in chunks[:5]] != sizes  # the sizes did grow
    cache.put(chunks[5:])  # drops the grown ones
    assert cache.nbytes == sum(true_size(c) for c in chunks[6:])
    cache.put([_chunk("huge", "z" * (cache.budget - 2000))])  # drops all the rest
    assert len(cache) == 1 and cache.nbytes == next(iter(cache._chunks.values()))[1]


def test_kept_chunks_are_not_fetched_again(hash_service: TanyaService,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    question = "What does Kyiv demand?"
    first = hash_service.ask(question)
    fetched: list[list[str]] = []
    get = hash_service.store.get_passages

    def counting(generation: str, chunk_ids: Any) -> Any:
        fetched.append(list(chunk_ids))
        return get(generation, chunk_ids)

    monkeypatch.setattr(hash_service.store, "get_passages", counting)
    hash_service._query_cache.clear()
    again = hash_service.ask(question)
    assert fetched == []  # the searches returned ids; the texts were kept
    assert [(p.chunk_id, p.text, p.score) for p in again.passages] == [
        (p.chunk_id, p.text, p.score) for p in first.passages]


def test_ids_only_search_ranks_as_the_full_query(hash_service: TanyaService) -> None:
    """The retriever's dense scores are the store's own query's, chunk for chunk."""
    hash_service.ask("Apa tuntutan Kyiv?")
    generation = hash_service.manifest().generation
    for question in ("What does Moscow want?", "Siapa Friedrich Merz?"):
        vector = hash_service.embedder.embed_question(question)
        full = hash_service.store.query(generation, vector, 20)
        ids = hash_service.store.query_ids(generation, vector, 20)
        assert [c for c, _ in ids] == [p.chunk_id for p in full]
        assert [s for _, s in ids] == pytest.approx([p.score for p in full])


def test_a_sentence_id_names_its_chunk() -> None:
    from index.store import _sentence_id, chunk_of_sentence

    for chunk in ("doc:0003", "a:s1:0002@r2", "berita:s:0001"):
        assert chunk_of_sentence(_sentence_id(chunk, 7)) == chunk


def test_chunks_not_served_are_neither_returned_nor_asked_for_sentences(
        hash_service: TanyaService, monkeypatch: pytest.MonkeyPatch) -> None:
    """During an update the store also holds a version being written, whose sentence
    vectors may not all be stored yet: its chunks are dropped before they are asked for."""
    from assistant.retrieval import PassageRetriever

    hash_service.ask("Apa tuntutan Kyiv?")
    generation = hash_service.manifest().generation
    vector = hash_service.embedder.embed_question("Apa tuntutan Kyiv?")
    everything = PassageRetriever(hash_service.store, generation).retrieve(vector, "", 6)
    hidden = everything.passages[0].chunk_id
    asked: list[str] = []
    fetch = hash_service.store.sentence_vectors

    def recording(generation: str, passages: Any) -> np.ndarray:
        asked.extend(p.chunk_id for p in passages)
        return fetch(generation, passages)

    monkeypatch.setattr(hash_service.store, "sentence_vectors", recording)
    retriever = PassageRetriever(hash_service.store, generation,
                                 serves=lambda doc_id, chunk_id: chunk_id != hidden)
    found = retriever.retrieve(vector, "", 5)
    assert asked and hidden not in asked
    assert hidden not in [p.chunk_id for p in found.passages]
    assert [p.chunk_id for p in found.passages] == [
        p.chunk_id for p in everything.passages if p.chunk_id != hidden][:5]


def test_chunks_found_by_their_sentences_join_the_candidates(
        hash_service: TanyaService, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fewer candidates than the article's chunks, so the sentence search runs: its
    chunks are the ones its sentences' metadata name, and they join with a passage score
    of 0 (the store did not rank them as passages)."""
    from assistant.retrieval import DEFAULT_SENTENCE_WEIGHT, PassageRetriever

    monkeypatch.setattr(assistant.retrieval, "_CANDIDATES", 3)
    hash_service.ask("Apa tuntutan Kyiv?")
    store, generation = hash_service.store, hash_service.manifest().generation
    joined = 0
    for question in ("What does Moscow want?", "Siapa Friedrich Merz?", "Apa tuntutan Kyiv?"):
        vector = hash_service.embedder.embed_question(question)
        by_metadata = store._collections(generation)[1].query(
            query_embeddings=[vector], n_results=3, include=["metadatas"])
        named = list(dict.fromkeys(m["chunk_id"] for m in by_metadata["metadatas"][0]))
        assert store.query_sentences(generation, vector, 3) == named
        dense = dict(store.query_ids(generation, vector, 3))
        candidates = list(dense) + [c for c in named if c not in dense]
        joined += len(candidates) - len(dense)
        stored = store.get_passages(generation, candidates)
        vectors = store.sentence_vectors(generation, stored)
        expected, row = {}, 0
        for passage in stored:
            count = len(passage.sentence_spans)
            best = float((vectors[row:row + count] @ vector).max())
            expected[passage.chunk_id] = ((1 - DEFAULT_SENTENCE_WEIGHT)
                                          * dense.get(passage.chunk_id, 0.0)
                                          + DEFAULT_SENTENCE_WEIGHT * best)
            row += count
        top = sorted(expected, key=lambda c: -expected[c])[:3]
        found = PassageRetriever(store, generation).retrieve(vector, "", 3)
        assert [p.chunk_id for p in found.passages] == top
        assert [p.score for p in found.passages] == pytest.approx([expected[c] for c in top])
    assert joined > 0  # the sentence search did add candidates
