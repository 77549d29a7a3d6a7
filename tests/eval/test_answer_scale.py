"""The whole-answer scale bench fills a real index: both collections and the manifest."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from assistant.service import TanyaService
from eval.bench import answer_scale
from eval.questionset import load_question_set
from index.chunking import chunk_document
from index.documents import bundled_documents
from index.embedders import HashEmbedder
from tests.support.settings import session_settings


def test_the_synthetic_chunks_are_served_like_documents(tanya_home: Path) -> None:
    service = TanyaService(session_settings(home=tanya_home, reader="off"),
                           embedder=HashEmbedder(64))
    service.build()
    article = chunk_document(bundled_documents()[0])
    total = answer_scale._fill(service, 250, np.random.default_rng(0))
    manifest = service.manifest()
    assert total == len(article) + 250 == manifest.chunk_count
    counts = service.store.counts(manifest.generation)
    assert counts["chunks"] == total
    # Each synthetic chunk brings its template's sentences, as an archive's would.
    expected = sum(len(article[n % len(article)].sentences) for n in range(250))
    assert counts["sentences"] == expected + sum(len(c.sentences) for c in article)
    assert [manifest.documents[f"bench-{d:05d}"].chunks for d in range(3)] == [100, 100, 50]
    ids = service.store.chunk_ids(manifest.generation, "bench-00002")
    assert len(ids) == 50 and all(manifest.serves("bench-00002", i) for i in ids)
    # Random vectors stay out of the way: the article still answers its own words.
    answer = service.ask("Kyiv menuntut jaminan keamanan")
    assert answer.passages and answer.passages[0].doc_id == article[0].doc_id


def test_the_bench_reports_both_readers(tanya_home: Path, shared_cache: Path) -> None:
    questions = load_question_set("ukraina").questions[:4]
    result = answer_scale.run_answer_scale(HashEmbedder(64), questions, 120, 4, shared_cache)
    assert result["synthetic_chunks"] == 120 and result["sentences"] > result["chunks"] > 120
    for reader in ("reader_off", "reader_on"):
        assert result[reader]["n"] == 4 and result[reader]["p50"] > 0
