"""Whole answers at archive scale: the bundled article, really embedded, in an index that
also holds ``chunks`` synthetic chunks, then warm ``TanyaService.ask`` over the article's
questions, reader off and on.

The synthetic chunks are the article's chunks (texts, sentence spans, metadata layout)
under other document ids, with random unit vectors for each chunk and each of its
sentences, written through ``ChromaIndex.add_chunks`` into the serving generation and
listed in the manifest like any document. So both collections hold what an archive of
that size would (about 2.75 sentences per chunk), and the chunk and sentence searches,
the costs that grow with the store, run against all of them. What it does not show:
random vectors are nearly orthogonal to a question's, so the passages read back are
always the article's (whose sentence vectors the retriever keeps after first use, as in
the warm section), and past 50,000 chunks the service skips the corpus vocabulary (the
unknown-name check), so the quick run's 2,000 and the full run's 100,000 time slightly
different paths. It measures time, not retrieval quality.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from assistant.service import TanyaService
from assistant.settings import Settings
from eval.bench.scale import unit_rows
from eval.bench.stats import summarize
from eval.bench.warm import medians, timed_new_questions, warm_up
from eval.questionset import Question
from index.chunking import chunk_document
from index.documents import bundled_documents
from index.embedders import TanyaEmbeddings
from index.manifest import DocumentRecord

#: Synthetic chunks per synthetic document.
PER_DOCUMENT = 100
_STEP = 2000  # chunks written per add_chunks call


def run_answer_scale(embedder: TanyaEmbeddings, questions: Sequence[Question], chunks: int,
                     calls: int, cache: Path, seed: int = 0) -> dict[str, Any]:
    """Warm answer latency (ms), reader off and on, with ``chunks`` chunks besides the
    article's in the store (``cache``: where the reader's converted model is)."""
    with tempfile.TemporaryDirectory(prefix="tanya-bench-answers-") as tmp:
        home = Path(tmp)
        settings = Settings(home=home, index="answers", reader="off", cache=str(cache))
        off = TanyaService(settings, embedder=embedder)
        off.build()
        started = time.perf_counter()
        total = _fill(off, chunks, np.random.default_rng(seed))
        fill_s = time.perf_counter() - started
        on = TanyaService(settings.with_(reader="on"), embedder=embedder)
        result = {"synthetic_chunks": chunks, "chunks": total,
                  "sentences": off.store.counts(off.manifest().generation)["sentences"],
                  "fill_s": round(fill_s, 1), "calls": calls,
                  "reader_off": _timed(off, questions, calls),
                  "reader_on": _timed(on, questions, calls)}
    return result


def _fill(service: TanyaService, chunks: int, rng: np.random.Generator) -> int:
    """Add ``chunks`` synthetic chunks to the service's index; returns its chunk count."""
    store, manifest = service.store, service.manifest()
    template = chunk_document(bundled_documents()[0])
    dim = service.embedder.dim
    for first in range(0, chunks, _STEP):
        batch = []
        for n in range(first, min(chunks, first + _STEP)):
            doc_id = f"bench-{n // PER_DOCUMENT:05d}"
            batch.append(replace(template[n % len(template)], doc_id=doc_id,
                                 chunk_id=f"{doc_id}:{n % PER_DOCUMENT:04d}",
                                 ordinal=n % PER_DOCUMENT))
        sentences = sum(len(c.sentences) for c in batch)
        store.add_chunks(manifest.generation, batch, _unit(rng, len(batch), dim),
                         _unit(rng, sentences, dim))
    source = manifest.documents[template[0].doc_id]
    for d in range(0, chunks, PER_DOCUMENT):
        manifest.documents[f"bench-{d // PER_DOCUMENT:05d}"] = DocumentRecord(
            f"synthetic-{d}", source.title, source.lang, "bench:synthetic",
            min(PER_DOCUMENT, chunks - d))
    store.write_manifest(manifest)
    service.reload()
    return manifest.chunk_count


def _timed(service: TanyaService, questions: Sequence[Question], calls: int
           ) -> dict[str, Any]:
    """New questions (the query cache emptied before each), as the warm section asks."""
    warm_up(service, questions)
    parts: dict[str, list[float]] = {}
    times = timed_new_questions(service, questions, calls, parts)
    return {**summarize(times), "breakdown_p50": medians(parts)}


def _unit(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    return unit_rows(rng.standard_normal((n, dim), dtype=np.float32))
