"""The metrics of DESIGN.md as pure functions over question results.

A metric that has nothing to measure (hit@3 on a group with no answerable question,
refusal accuracy with no unanswerable one) is ``None``, never a misleading 0.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from eval.results import QuestionResult

RANK_CUTOFF = 10  # mrr counts a first relevant passage only within the top 10
HIT_KS = (1, 3, 5)

# Every reported metric and whether a higher value is better (for bars and compare).
HIGHER_IS_BETTER: dict[str, bool] = {
    **{f"retrieval.hit@{k}": True for k in HIT_KS},
    "retrieval.mrr": True,
    "answer.fact_recall": True,
    "citations.hit": True,
    "citations.precision": True,
    "refusal.accuracy": True,
    "refusal.false_refusal_rate": False,
    "latency_ms.p50": False,
    "latency_ms.p95": False,
}
_SPACE = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Case-folded, NFC, whitespace collapsed: how evidence and facts are matched."""
    return _SPACE.sub(" ", unicodedata.normalize("NFC", text)).strip().casefold()


def is_relevant(text: str, evidence: Iterable[str]) -> bool:
    """A passage is relevant if it contains any evidence phrase."""
    haystack = normalize(text)
    return any(normalize(phrase) in haystack for phrase in evidence)


def first_relevant_rank(texts: Sequence[str], evidence: Sequence[str],
                        cutoff: int = RANK_CUTOFF) -> int | None:
    """1-based rank of the first relevant text among the first ``cutoff``, else None."""
    for rank, text in enumerate(texts[:cutoff], start=1):
        if is_relevant(text, evidence):
            return rank
    return None


def split_facts(answer: str, facts: Iterable[str]) -> tuple[list[str], list[str]]:
    """(found, missing) answer facts in the answer text."""
    haystack = normalize(answer)
    found: list[str] = []
    missing: list[str] = []
    for fact in facts:
        (found if normalize(fact) in haystack else missing).append(fact)
    return found, missing


def share(flags: Iterable[bool]) -> float | None:
    """Fraction of true flags; None when there are none."""
    values = list(flags)
    return sum(values) / len(values) if values else None


def hit_rate(ranks: Sequence[int | None], k: int) -> float | None:
    """Share of questions whose first relevant passage ranks within the top ``k``."""
    return share(rank is not None and rank <= k for rank in ranks)


def mean_reciprocal_rank(ranks: Sequence[int | None], cutoff: int = RANK_CUTOFF
                         ) -> float | None:
    """Mean of 1/rank, counting 0 for no relevant passage within ``cutoff``."""
    if not ranks:
        return None
    return sum(1 / r for r in ranks if r is not None and r <= cutoff) / len(ranks)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100), linearly interpolated as numpy does by default."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def failures(result: QuestionResult) -> tuple[str, ...]:
    """The metrics this question fails, so a reader can see why it counts against."""
    if result.error:
        return ("error",)
    if not result.answerable:
        return () if result.refused else ("refusal.accuracy",)
    failed = [f"retrieval.hit@{k}" for k in HIT_KS if result.rank is None or result.rank > k]
    if result.facts_missing:
        failed.append("answer.fact_recall")
    if not any(c.relevant for c in result.cited):
        failed.append("citations.hit")
    if any(not c.relevant for c in result.cited):
        failed.append("citations.precision")
    if result.refused:
        failed.append("refusal.false_refusal_rate")
    return tuple(failed)


def group_metrics(results: Sequence[QuestionResult]) -> dict[str, Any]:
    """The DESIGN.md metrics object for one group of results."""
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    ranks = [r.rank for r in answerable]
    latencies = [r.latency_ms for r in results if not r.error]
    return {
        "n": len(results),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "errors": sum(1 for r in results if r.error),
        "retrieval": {**{f"hit@{k}": _round(hit_rate(ranks, k)) for k in HIT_KS},
                      "mrr": _round(mean_reciprocal_rank(ranks))},
        "answer": {"fact_recall": _round(_fact_recall(answerable))},
        "citations": {"hit": _round(share(any(c.relevant for c in r.cited) for r in answerable)),
                      "precision": _round(_citation_precision(answerable))},
        "refusal": {"accuracy": _round(share(r.refused for r in unanswerable)),
                    "false_refusal_rate": _round(share(r.refused for r in answerable))},
        "latency_ms": {"p50": _round(percentile(latencies, 50), 2),
                       "p95": _round(percentile(latencies, 95), 2)},
    }


def metric_value(metrics: dict[str, Any], name: str) -> float | None:
    """Look up a dotted metric name (``retrieval.hit@3``) in a metrics object."""
    group, _, leaf = name.partition(".")
    value = metrics.get(group, {}).get(leaf)
    return None if value is None else float(value)


def _fact_recall(answerable: Sequence[QuestionResult]) -> float | None:
    # Averaged per question, so a question with many facts does not outweigh the rest.
    per_question = [len(r.facts_found) / (len(r.facts_found) + len(r.facts_missing))
                    for r in answerable if r.facts_found or r.facts_missing]
    return sum(per_question) / len(per_question) if per_question else None


def _citation_precision(answerable: Sequence[QuestionResult]) -> float | None:
    # A passage cited twice in one answer counts once: precision is over cited passages.
    cited = [{c.passage_rank: c.relevant for c in r.cited} for r in answerable]
    total = sum(len(passages) for passages in cited)
    relevant = sum(sum(passages.values()) for passages in cited)
    return relevant / total if total else None


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)
