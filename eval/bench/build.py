"""Index build cost: a fresh build, a re-run on unchanged input, and growth with size.

Growth builds copies of the bundled article (distinct document ids, same text) into a
fresh store, so every chunk and sentence is really embedded and stored: the embedder
caches nothing across texts, so a copy costs what a new article of that size would.
"""

from __future__ import annotations

import math
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from assistant.service import TanyaService
from assistant.settings import Settings
from eval.bench.stats import load_average
from index.documents import Document, bundled_documents
from index.embedders import TanyaEmbeddings


def run_build(service: TanyaService) -> dict[str, Any]:
    """Fresh build of the bundled article into ``service``'s store, then a no-op re-run."""
    fresh = service.build(rebuild=True)
    sentences = service.store.counts(fresh.generation)["sentences"]
    started = time.perf_counter()
    again = service.build()
    rerun = time.perf_counter() - started
    if again.changed_anything:
        raise RuntimeError("re-running the build on unchanged input changed the index")
    return {"chunks": fresh.chunks_embedded, "sentences": sentences,
            "seconds": round(fresh.seconds, 3),
            "chunks_per_s": round(fresh.chunks_embedded / fresh.seconds, 2),
            "texts_per_s": round((fresh.chunks_embedded + sentences) / fresh.seconds, 2),
            "rerun_unchanged_s": round(rerun, 3),
            "workers": getattr(service.embedder, "workers", 1),
            "note": "each chunk embeds its text and each of its sentences"}


def run_growth(embedder: TanyaEmbeddings, sizes: tuple[int, ...],
               fresh: dict[str, Any]) -> list[dict[str, Any]]:
    """Build time and throughput at about ``sizes`` chunks, each into a fresh store.

    The first point is the fresh build of one article already measured (``fresh``, from
    :func:`run_build`); each size is the fewest article copies that reach it.
    """
    article = bundled_documents()[0]
    points = [_point(1, fresh["chunks"], fresh["sentences"], fresh["seconds"])]
    per_copy = max(1, fresh["chunks"])
    for size in sizes:
        copies = max(1, math.ceil(size / per_copy))
        docs = [_copy(article, i) for i in range(copies)]
        load = load_average()[0]
        with tempfile.TemporaryDirectory(prefix="tanya-bench-growth-") as home:
            service = TanyaService(Settings(home=Path(home), index="growth"), embedder=embedder)
            report = service.build(docs)
            sentences = service.store.counts(report.generation)["sentences"]
        point = _point(copies, report.chunks_embedded, sentences, report.seconds)
        point["load_1min"] = {"start": load, "end": load_average()[0]}
        points.append(point)
    return points


def _point(copies: int, chunks: int, sentences: int, seconds: float) -> dict[str, Any]:
    return {"copies": copies, "chunks": chunks, "sentences": sentences,
            "seconds": round(seconds, 2),
            "chunks_per_s": round(chunks / seconds, 3),
            "seconds_per_1k_chunks": round(seconds / chunks * 1000, 1)}


def _copy(doc: Document, i: int) -> Document:
    return replace(doc, doc_id=f"{doc.doc_id}-copy{i:04d}", source=f"bench:copy{i}")
