"""The retriever: sentence vectors are read from the store once per passage."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import assistant.retrieval
from assistant.service import TanyaService


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


def test_the_cache_is_bounded(hash_service: TanyaService,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(assistant.retrieval, "_CACHED_PASSAGES", 3)
    hash_service.reload()
    answer = hash_service.ask("Apa tuntutan Kyiv soal Memorandum Budapest?")
    assert answer.passages  # still answered from what was fetched
    assert len(hash_service._load().retriever._sentence_cache) == 3
