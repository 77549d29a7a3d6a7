"""Store query latency as the store grows, with synthetic vectors.

The vectors are random unit vectors (384-d, like e5-small), not embeddings of text, and
the texts are the article's chunks repeated. They are written with chromadb's ``upsert``
straight into the chunk collection that ``ChromaIndex`` reads, in the same metadata
shape, and queried through ``ChromaIndex.query`` with k=20 (what retrieval asks for).
Only the chunk collection grows: the sentence collection is not scaled.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from eval.bench.stats import summarize
from index.chunking import Chunk
from index.store import ChromaIndex, chunk_metadata, open_client

DIM = 384
K = 20
_GENERATION = "gbench"
_BATCH = 5000  # chromadb's largest embedded batch is about 5,461
_WARM_UP = 5


def run_scale(texts: Sequence[Chunk], sizes: Sequence[int], queries: int,
              seed: int = 0) -> dict[str, Any]:
    """Grow one store through ``sizes`` (ascending); query it at each size."""
    rng = np.random.default_rng(seed)
    probes = unit_rows(rng.standard_normal((queries + _WARM_UP, DIM), dtype=np.float32))
    points = []
    with tempfile.TemporaryDirectory(prefix="tanya-bench-scale-") as home:
        store = ChromaIndex(open_client(Path(home)), "bench-scale")
        # Both collections exist, as after a build (readers never create them); only the
        # chunk collection is filled.
        collection, _ = (store.client.get_or_create_collection(
            name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}})
            for name in store.collection_names(_GENERATION))
        size = 0
        for target in sorted(sizes):
            started = time.perf_counter()
            while size < target:
                n = min(_BATCH, target - size)
                _insert(collection, texts, size, unit_rows(rng.standard_normal((n, DIM),
                                                                           dtype=np.float32)))
                size += n
            insert_s = time.perf_counter() - started
            times = []
            for i, probe in enumerate(probes):
                began = time.perf_counter()
                found = store.query(_GENERATION, probe, K)
                if i >= _WARM_UP:
                    times.append((time.perf_counter() - began) * 1000)
            assert len(found) == K
            points.append({"chunks": size, "insert_s": round(insert_s, 2),
                           "query_ms": summarize(times)})
    return {"vectors": f"synthetic: random unit vectors, {DIM}-d", "k": K,
            "queries_per_size": queries, "written_with": "chromadb upsert (chunk collection)",
            "queried_with": "ChromaIndex.query", "points": points}


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """``vectors`` scaled to unit length, row by row."""
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _insert(collection: Any, texts: Sequence[Chunk], offset: int, vectors: np.ndarray) -> None:
    rows = [(offset + i, texts[(offset + i) % len(texts)]) for i in range(len(vectors))]
    collection.upsert(
        ids=[f"bench:{n:07d}" for n, _ in rows], embeddings=vectors,
        documents=[c.text for _, c in rows],
        # The real metadata layout, with ids and documents spread like a large corpus.
        metadatas=[{**chunk_metadata(c), "doc_id": f"bench-{n // 100:05d}", "ordinal": n}
                   for n, c in rows])
