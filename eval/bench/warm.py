"""Warm answers in-process: the service already loaded, retrieval and answer included."""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.service import TanyaService
from assistant.settings import Settings
from eval.bench.stats import median_of_repeats
from eval.questionset import Question, load_question_set
from index.documents import Document, load_corpus

_WARM_UP_CALLS = 20
ARCHIVE_DOCUMENTS = 300


def run_warm(service: TanyaService, questions: Sequence[Question], calls: int,
             repeats: int) -> dict[str, Any]:
    """Answer latency (ms) over the shipped questions, with and without the query cache.

    ``uncached`` is what a new question costs: the service's query-vector cache is
    emptied before every call, so each one embeds its question. ``cached`` repeats
    questions already asked, as a portal re-asking a popular question would.
    """
    warm_up(service, questions)
    uncached, cached = [], []
    parts: dict[str, list[float]] = {}
    for _ in range(repeats):
        uncached.append(timed_new_questions(service, questions, calls, parts))
        cached.append(_timed_asks(service, [questions[i % len(questions)]
                                            for i in range(calls)]))
    return {"unit": "ms", "questions": len(questions),
            "uncached": median_of_repeats(uncached), "cached": median_of_repeats(cached),
            "breakdown_p50": medians(parts)}


def warm_up(service: TanyaService, questions: Sequence[Question]) -> None:
    for q in questions[:_WARM_UP_CALLS]:
        service.ask(q.question, q.history_dicts())


def timed_new_questions(service: TanyaService, questions: Sequence[Question], calls: int,
                        parts: dict[str, list[float]]) -> list[float]:
    """Milliseconds of ``calls`` asks cycling through ``questions``, each a new question
    (the query-vector cache emptied first); each answer's stage timings go to ``parts``."""
    times = []
    for i in range(calls):
        q = questions[i % len(questions)]
        service._query_cache.clear()  # no public switch: the cache is an optimisation
        started = time.perf_counter()
        answer = service.ask(q.question, q.history_dicts())
        times.append((time.perf_counter() - started) * 1000)
        for name, ms in answer.timings_ms.items():
            parts.setdefault(name, []).append(ms)
    return times


def medians(parts: dict[str, list[float]]) -> dict[str, float]:
    """p50 of each answer stage (without the total)."""
    return {name: round(statistics.median(v), 2) for name, v in parts.items()
            if name != "total"}


def _timed_asks(service: TanyaService, questions: Sequence[Question]) -> list[float]:
    for q in questions:  # fill the cache first
        service.ask(q.question, q.history_dicts())
    times = []
    for q in questions:
        started = time.perf_counter()
        service.ask(q.question, q.history_dicts())
        times.append((time.perf_counter() - started) * 1000)
    return times


def archive_documents(n: int = ARCHIVE_DOCUMENTS) -> list[Document]:
    """``n`` two-paragraph news documents from the shipped archive corpora (dev, test):
    document i joins passages i and i + n // 2 (mod the passages), so every one is new."""
    from eval.questionset import shipped_corpus

    folders = [f for f in (shipped_corpus("archive-dev"), shipped_corpus("archive-test")) if f]
    passages, _ = load_corpus(folders)
    texts = [p.text.strip() for p in passages]
    out = []
    for i in range(n):
        first, second = texts[i % len(texts)], texts[(i + n // 2 + i // len(texts)) % len(texts)]
        out.append(Document(f"archive-{i:03d}", f"Archive article {i}", "id",
                            f"{first}\n\n{second}\n", "bench"))
    return out


def warm_archive_service(home: Path) -> TanyaService:
    """A reader-on service over the bench archive under ``home``, built and warmed up,
    reading the user's cache (the reader's prepared base and graph are not made again).
    For the benches that compare the reader's sessions in-process."""
    service = TanyaService(Settings(home=home, index="bench-archive", reader="on",
                                    cache=str(Settings().cache_dir)))
    service.build(archive_documents())
    warm_up(service, load_question_set("archive-dev").questions)
    return service


def run_archive(home: Path, calls: int, repeats: int) -> dict[str, Any]:
    """Warm answers (reader on and off) over a ``ARCHIVE_DOCUMENTS``-document index,
    asked the archive dev set's questions."""
    questions = load_question_set("archive-dev").questions
    out: dict[str, Any] = {"documents": ARCHIVE_DOCUMENTS}
    for reader in ("on", "off"):
        service = TanyaService(Settings(home=home, index="bench-archive", reader=reader))
        if reader == "on":
            out["chunks"] = service.build(archive_documents()).chunks_embedded
        warm = run_warm(service, questions, calls, repeats)
        out[f"reader_{reader}"] = warm["uncached"]
        # Where the archive's answer time goes: its passages are longer than the
        # article's, so the reader's share differs.
        out[f"reader_{reader}_stages_p50"] = warm["breakdown_p50"]
    return out
