"""Why a question counts as failed: the per-question checks, their definition in words
(every report shows it) and each failure's reason."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from eval.metrics import HIT_KS, has_reader_output, span_scores
from eval.results import QuestionResult

# What makes a question "failed": ``failures`` below, in words. Every report shows it, so
# "44 of 80 failed" can be read without the code; a test keeps the names in step.
FAILED_DEFINITION = (
    "A question counts as failed when it fails at least one per-question check; each "
    "check is named after the metric it feeds, and summary.json's failed_questions counts "
    "these questions. A question the service rejected fails error and nothing else. An "
    "unanswerable question fails refusal.accuracy when it was answered. An answerable "
    "question fails retrieval.hit@1, retrieval.hit@3 or retrieval.hit@5 when no relevant "
    "passage ranks within the top 1, 3 or 5 (these nest: a first relevant passage at rank "
    "4 fails hit@1 and hit@3); answer.fact_recall when any of its answer_facts is missing "
    "from the answer (a refusal misses them all); answer.span_em when the reader ran and "
    "its span does not exactly match the question's answer field (if it has one); "
    "citations.hit when no cited passage is relevant (or nothing is cited); "
    "citations.precision when any cited passage is not relevant, even beside relevant "
    "ones; refusal.false_refusal_rate when it was refused. One check is enough: a right "
    "answer with one irrelevant citation fails citations.precision. retrieval.mrr, "
    "answer.span_f1, refusal.auroc, refusal.at_5pct_false and latency have no per-question "
    "check.")


def failures(result: QuestionResult) -> tuple[str, ...]:
    """The metrics this question fails, so a reader can see why it counts against."""
    if result.error:
        return ("error",)
    if not result.answerable:
        return () if result.refused else ("refusal.accuracy",)
    failed = [f"retrieval.hit@{k}" for k in HIT_KS if result.rank is None or result.rank > k]
    if result.facts_missing:
        failed.append("answer.fact_recall")
    scores = span_scores(result) if has_reader_output(result) else None
    if scores is not None and not scores[0]:
        failed.append("answer.span_em")
    if not any(c.relevant for c in result.cited):
        failed.append("citations.hit")
    if any(not c.relevant for c in result.cited):
        failed.append("citations.precision")
    if result.refused:
        failed.append("refusal.false_refusal_rate")
    return tuple(failed)


def failure_reasons(result: QuestionResult) -> list[tuple[str, str]]:
    """Why the question failed: (metric names, reason) pairs in ``failed`` order. Checks
    with the same reason share a pair (hit@1 and hit@3 missed at one rank, or citations.hit
    and citations.precision over the same citations), so the list stays short."""
    merged: dict[str, list[str]] = {}
    for metric in result.failed:
        merged.setdefault(_reason(result, metric), []).append(metric)
    return [(", ".join(names), reason) for reason, names in merged.items()]


def failure_counts(results: Sequence[QuestionResult]) -> list[tuple[str, int, int]]:
    """(metric, failed questions that fail it, those that fail nothing else), most failed
    first: which checks the failed count is made of."""
    failing = Counter(m for r in results for m in r.failed)
    alone = Counter(r.failed[0] for r in results if len(r.failed) == 1)
    return [(m, n, alone[m]) for m, n in sorted(failing.items(), key=lambda i: (-i[1], i[0]))]


def _reason(result: QuestionResult, metric: str) -> str:
    if metric == "error":
        return result.error or "error"
    if metric.startswith("retrieval.hit@"):
        return (f"first relevant passage at rank {result.rank}" if result.rank
                else "no relevant passage in the top 10")
    if metric == "answer.fact_recall":
        return "missing " + ", ".join(f'"{fact}"' for fact in result.facts_missing)
    if metric == "answer.span_em":
        if result.refused:
            return "refused, so no span"
        return "no span" if result.span is None else "span is not the gold answer"
    if metric.startswith("citations."):
        return ", ".join(f"[{c.n}] p{c.paragraph} {'relevant' if c.relevant else 'not relevant'}"
                         for c in result.cited) or "nothing cited"
    if metric == "refusal.false_refusal_rate":
        return f"refused: {result.refusal_reason}" if result.refusal_reason else "refused"
    if metric == "refusal.accuracy":
        return "answered, though the set marks it unanswerable"
    return ""
