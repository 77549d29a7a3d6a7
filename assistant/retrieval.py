"""Retrieval: dense candidates from passages and sentences, re-ranked by both.

A passage is scored ``(1 - w) * passage_similarity + w * best_sentence_similarity``:
a question usually matches one sentence well, and whole-passage vectors blur it.
The weight was chosen with the evaluation set (see README, "Tuning").
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from assistant.lexical import BM25, rrf_fuse
from index.store import ChromaIndex, StoredPassage

_CANDIDATES = 20
DEFAULT_SENTENCE_WEIGHT = 0.7
# Sentence vectors never change within a generation, so they are kept after first use
# (1.7 of the 6 ms a retrieval took); the bound keeps a large index's memory in check.
_CACHED_PASSAGES = 20_000


@dataclass(frozen=True)
class Retrieved:
    """Top passages, best first, with the vectors of their sentences in order."""

    passages: list[StoredPassage]
    sentence_vectors: np.ndarray


class PassageRetriever:
    """Finds the passages of one index generation that answer a query vector."""

    def __init__(
        self,
        store: ChromaIndex,
        generation: str,
        sentence_weight: float = DEFAULT_SENTENCE_WEIGHT,
        lexical: BM25 | None = None,
        lexical_ids: list[str] | None = None,
        serves: Callable[[str, str], bool] | None = None,
    ) -> None:
        """``serves(doc_id, chunk_id)`` says which stored chunks belong to the index being
        read (``Manifest.serves``): during a document update the store also holds the
        version being written or the one just replaced, and a question sees one of them."""
        self.store = store
        self.generation = generation
        self.sentence_weight = sentence_weight
        self.lexical = lexical
        self.lexical_ids = lexical_ids or []
        self.serves = serves
        self._sentence_cache: dict[str, np.ndarray] = {}
        self._cache_lock = threading.Lock()

    def retrieve(self, vector: np.ndarray, query: str, k: int) -> Retrieved:
        n = max(k, _CANDIDATES)
        dense = self.store.query(self.generation, vector, n)
        known = {p.chunk_id for p in dense}
        # Fewer than n back means the store holds no other chunk, so the sentence
        # collection cannot add a candidate: skip its query (small indexes, 1-4 ms).
        found_by_sentence = (self.store.query_sentences(self.generation, vector, n)
                             if len(dense) >= n else [])
        extra = [c for c in found_by_sentence if c not in known]
        candidates = self._served(dense + self.store.get_passages(self.generation, extra))
        sentence_vectors = self._sentence_vectors(candidates)
        ranked = self._rerank(candidates, sentence_vectors, vector)
        if self.lexical is not None:
            ranked = self._fuse(ranked, query)
        top = ranked[:k]
        rows, offset = {}, 0
        for passage in candidates:
            count = len(passage.sentence_spans)
            rows[passage.chunk_id] = sentence_vectors[offset : offset + count]
            offset += count
        picked = [rows[p.chunk_id] for p in top]
        return Retrieved(top, np.vstack(picked) if picked else sentence_vectors[:0])

    def _served(self, passages: list[StoredPassage]) -> list[StoredPassage]:
        if self.serves is None:
            return passages
        serves = self.serves
        return [p for p in passages if serves(p.doc_id, p.chunk_id)]

    def _sentence_vectors(self, passages: list[StoredPassage]) -> np.ndarray:
        """The store's ``sentence_vectors``, asking it only for passages not seen before."""
        with self._cache_lock:
            known = {p.chunk_id: self._sentence_cache[p.chunk_id] for p in passages
                     if p.chunk_id in self._sentence_cache}
        missing = [p for p in passages if p.chunk_id not in known]
        if missing:
            fetched, offset = self.store.sentence_vectors(self.generation, missing), 0
            for passage in missing:
                count = len(passage.sentence_spans)
                known[passage.chunk_id] = fetched[offset : offset + count]
                offset += count
            with self._cache_lock:
                room = max(_CACHED_PASSAGES - len(self._sentence_cache), 0)
                for passage in missing[:room]:
                    self._sentence_cache[passage.chunk_id] = known[passage.chunk_id]
        parts = [known[p.chunk_id] for p in passages if p.sentence_spans]
        return np.vstack(parts) if parts else np.zeros((0, 0), dtype=np.float32)

    def _rerank(
        self, candidates: list[StoredPassage], sentence_vectors: np.ndarray, vector: np.ndarray
    ) -> list[StoredPassage]:
        sims = sentence_vectors @ vector if len(sentence_vectors) else np.zeros(0)
        rescored, row = [], 0
        for passage in candidates:
            count = len(passage.sentence_spans)
            best = float(sims[row : row + count].max()) if count else passage.score
            row += count
            score = (1 - self.sentence_weight) * passage.score + self.sentence_weight * best
            rescored.append(replace(passage, score=score))
        return sorted(rescored, key=lambda p: -p.score)

    def _fuse(self, ranked: list[StoredPassage], query: str) -> list[StoredPassage]:
        """Reorder the dense candidates by reciprocal-rank fusion with BM25 (never filters)."""
        assert self.lexical is not None
        scores = self.lexical.scores(query)
        lexical = [self.lexical_ids[i] for i in np.argsort(scores)[::-1][:_CANDIDATES]
                   if scores[i] > 0]
        by_id = {p.chunk_id: p for p in ranked}
        order = [cid for cid in rrf_fuse([p.chunk_id for p in ranked], lexical) if cid in by_id]
        return [by_id[cid] for cid in order]
