"""Retrieval: dense candidates from passages and sentences, re-ranked by both.

A passage is scored ``(1 - w) * passage_similarity + w * best_sentence_similarity``:
a question usually matches one sentence well, and whole-passage vectors blur it.
The weight was chosen with the evaluation set (see README, "Tuning").
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from assistant.lexical import BM25, rrf_fuse
from index.store import ChromaIndex, StoredPassage

_CANDIDATES = 20
DEFAULT_SENTENCE_WEIGHT = 0.7
# A chunk's text, metadata and sentence vectors never change within a generation, so
# they are kept after first use: the searches then fetch ids and distances only (a
# retrieval over a 300-document archive took 6 ms fetching them every time). The bound
# is in bytes, not chunks, since a chunk's size grows with its text and sentences: 32 MB
# keeps some 6,000 news paragraphs, the most recently asked-about ones of a large archive.
_CACHE_BYTES = 32 * 2**20
# What ``_Chunk.size`` adds per sentence span and per chunk for what it does not count
# (the dataclasses, the cache's entry), fitted so that its estimate is what tracemalloc
# counts for the 472 chunks of `tanya bench`'s 300-document archive
# (`python -m eval.bench.kept`; tested within 15% on the bundled article).
_SPAN_BYTES = 120
_RECORD_BYTES = 300


@dataclass(frozen=True)
class Retrieved:
    """Top passages, best first, with the vectors of their sentences in order."""

    passages: list[StoredPassage]
    sentence_vectors: np.ndarray


@dataclass(frozen=True)
class _Chunk:
    """What is kept of a stored chunk: the passage (score 0) and its sentence vectors."""

    passage: StoredPassage
    sentence_vectors: np.ndarray

    def size(self) -> int:
        """Bytes that keeping it costs, near enough: its strings, its sentence spans (a
        tuple of three ints each), its vectors, and ``_RECORD_BYTES`` for the rest."""
        p = self.passage
        strings = (p.text, p.chunk_id, p.doc_id, p.title, p.section, p.url, p.published,
                   p.author)
        return (sum(sys.getsizeof(t) for t in strings) + _SPAN_BYTES * len(p.sentence_spans)
                + self.sentence_vectors.nbytes + _RECORD_BYTES)


class ChunkCache:
    """Chunks by id, least recently used dropped first when they hold more than
    ``budget`` bytes. Per retriever, so per process and per index generation."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.nbytes = 0
        # Each chunk with its size when it was put: a size worked out again later could
        # differ (a str caches its UTF-8 form once something asks for it, and grows), and
        # the count would drift.
        self._chunks: OrderedDict[str, tuple[_Chunk, int]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._chunks)

    def get(self, chunk_ids: list[str]) -> dict[str, _Chunk]:
        """The kept ones among ``chunk_ids``, each now the most recently used."""
        with self._lock:
            found = {}
            for chunk_id in chunk_ids:
                kept = self._chunks.get(chunk_id)
                if kept is not None:
                    self._chunks.move_to_end(chunk_id)
                    found[chunk_id] = kept[0]
            return found

    def put(self, chunks: list[_Chunk]) -> None:
        """Keep ``chunks`` as the most recently used (one already kept is replaced),
        dropping the least recently used past the budget; a chunk larger than the whole
        budget is not kept."""
        with self._lock:
            for chunk in chunks:
                size = chunk.size()
                if size > self.budget:
                    continue
                old = self._chunks.pop(chunk.passage.chunk_id, None)
                if old is not None:
                    self.nbytes -= old[1]
                self._chunks[chunk.passage.chunk_id] = (chunk, size)
                self.nbytes += size
                while self.nbytes > self.budget:
                    _, (_, dropped) = self._chunks.popitem(last=False)
                    self.nbytes -= dropped


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
        cache_bytes: int | None = None,
    ) -> None:
        """``serves(doc_id, chunk_id)`` says which stored chunks belong to the index being
        read (``Manifest.serves``): during a document update the store also holds the
        version being written or the one just replaced, and a question sees one of them.
        ``cache_bytes`` bounds the chunks kept (default ``_CACHE_BYTES``)."""
        self.store = store
        self.generation = generation
        self.sentence_weight = sentence_weight
        self.lexical = lexical
        self.lexical_ids = lexical_ids or []
        self.serves = serves
        self._cache = ChunkCache(_CACHE_BYTES if cache_bytes is None else cache_bytes)

    def retrieve(self, vector: np.ndarray, query: str, k: int) -> Retrieved:
        n = max(k, _CANDIDATES)
        dense = self.store.query_ids(self.generation, vector, n)
        similarity = dict(dense)
        # Fewer than n back means the store holds no other chunk, so the sentence
        # collection cannot add a candidate: skip its query (small indexes, 1-4 ms).
        found_by_sentence = (self.store.query_sentences(self.generation, vector, n)
                             if len(dense) >= n else [])
        extra = [c for c in found_by_sentence if c not in similarity]
        chunks = self._chunks([c for c, _ in dense] + extra)
        candidates = [c.passage for c in chunks]
        # Chunks found by their sentences only keep score 0, as the store returns them.
        dense_scores = [similarity.get(p.chunk_id, 0.0) for p in candidates]
        rows = {c.passage.chunk_id: c.sentence_vectors for c in chunks}
        sentence_vectors = _stack([c.sentence_vectors for c in chunks])
        ranked = self._rerank(candidates, dense_scores, sentence_vectors, vector)
        if self.lexical is not None:
            ranked = self._fuse(ranked, query)
        top = ranked[:k]
        return Retrieved(top, _stack([rows[p.chunk_id] for p in top]))

    def _served(self, passages: list[StoredPassage]) -> list[StoredPassage]:
        if self.serves is None:
            return passages
        serves = self.serves
        return [p for p in passages if serves(p.doc_id, p.chunk_id)]

    def _chunks(self, chunk_ids: list[str]) -> list[_Chunk]:
        """The served chunks among ``chunk_ids``, in that order, asking the store only
        for chunks not seen before."""
        known = self._cache.get(chunk_ids)
        missing = [c for c in chunk_ids if c not in known]
        if missing:
            # Served ones only, before their sentence vectors are asked for: a version
            # being written may not have all of them stored yet.
            passages = self._served(self.store.get_passages(self.generation, missing))
            fetched, offset = self.store.sentence_vectors(self.generation, passages), 0
            for passage in passages:
                count = len(passage.sentence_spans)
                # A copy: a slice would keep the whole fetched block alive after the
                # rest of it was dropped from the cache.
                known[passage.chunk_id] = _Chunk(passage,
                                                 fetched[offset : offset + count].copy())
                offset += count
            self._cache.put([known[p.chunk_id] for p in passages])
        return [known[c] for c in chunk_ids if c in known]

    def _rerank(
        self, candidates: list[StoredPassage], dense_scores: list[float],
        sentence_vectors: np.ndarray, vector: np.ndarray
    ) -> list[StoredPassage]:
        """The candidates, best first, scored by their dense score blended with their
        best sentence's (each passage copied once, with its final score)."""
        sims = sentence_vectors @ vector if len(sentence_vectors) else np.zeros(0)
        rescored, row = [], 0
        for passage, dense in zip(candidates, dense_scores, strict=True):
            count = len(passage.sentence_spans)
            best = float(sims[row : row + count].max()) if count else dense
            row += count
            score = (1 - self.sentence_weight) * dense + self.sentence_weight * best
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


def _stack(parts: list[np.ndarray]) -> np.ndarray:
    """Sentence vectors of several passages as one array (passages without sentences
    add no rows)."""
    rows = [p for p in parts if len(p)]
    return np.vstack(rows) if rows else np.zeros((0, 0), dtype=np.float32)
