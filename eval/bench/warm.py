"""Warm answers in-process: the service already loaded, retrieval and answer included."""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from typing import Any

from assistant.service import TanyaService
from eval.bench.stats import median_of_repeats
from eval.questionset import Question

_WARM_UP_CALLS = 20


def run_warm(service: TanyaService, questions: Sequence[Question], calls: int,
             repeats: int) -> dict[str, Any]:
    """Answer latency (ms) over the shipped questions, with and without the query cache.

    ``uncached`` is what a new question costs: the service's query-vector cache is
    emptied before every call, so each one embeds its question. ``cached`` repeats
    questions already asked, as a portal re-asking a popular question would.
    """
    for q in questions[:_WARM_UP_CALLS]:
        service.ask(q.question, q.history_dicts())
    uncached, cached = [], []
    parts: dict[str, list[float]] = {}
    for _ in range(repeats):
        times = []
        for i in range(calls):
            q = questions[i % len(questions)]
            service._query_cache.clear()  # no public switch: the cache is an optimisation
            started = time.perf_counter()
            answer = service.ask(q.question, q.history_dicts())
            times.append((time.perf_counter() - started) * 1000)
            for name, ms in answer.timings_ms.items():
                parts.setdefault(name, []).append(ms)
        uncached.append(times)
        cached.append(_timed_asks(service, [questions[i % len(questions)]
                                            for i in range(calls)]))
    return {"unit": "ms", "questions": len(questions),
            "uncached": median_of_repeats(uncached), "cached": median_of_repeats(cached),
            "breakdown_p50": {name: round(statistics.median(v), 2)
                              for name, v in parts.items() if name != "total"}}


def _timed_asks(service: TanyaService, questions: Sequence[Question]) -> list[float]:
    for q in questions:  # fill the cache first
        service.ask(q.question, q.history_dicts())
    times = []
    for q in questions:
        started = time.perf_counter()
        service.ask(q.question, q.history_dicts())
        times.append((time.perf_counter() - started) * 1000)
    return times
