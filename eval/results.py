"""What one question's run produced: enough to score it and to see why it failed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from assistant.types import Turn

# What makes a question "failed": metrics.failures, in words. Every report shows it, so
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


@dataclass(frozen=True)
class Retrieved:
    """A ranked passage as the evaluation sees it."""

    rank: int
    paragraph: int
    relevant: bool
    score: float


@dataclass(frozen=True)
class Cited:
    """One citation of the answer and whether the passage it cites is relevant."""

    n: int
    passage_rank: int
    paragraph: int
    quote: str
    score: float
    relevant: bool


@dataclass(frozen=True)
class QuestionResult:
    """One question's outcome. ``rank`` is the first relevant passage in the top 10.

    ``span`` and ``answerability`` are the reader's short answer (its text) and score,
    None when the reader is off (or gave none); ``gold_answer`` is the question set's
    ``answer``, None when the question has none. ``history`` is the earlier turns the
    question was asked after (the question set's ``history``), oldest first.
    """

    id: str
    lang: str
    question: str
    answerable: bool
    tags: tuple[str, ...] = ()
    rank: int | None = None
    retrieved: tuple[Retrieved, ...] = ()
    answer: str = ""
    refused: bool = False
    refusal_reason: str = ""
    cited: tuple[Cited, ...] = ()
    facts_found: tuple[str, ...] = ()
    facts_missing: tuple[str, ...] = ()
    latency_ms: float = 0.0
    error: str | None = None
    span: str | None = None
    answerability: float | None = None
    gold_answer: str | None = None
    signals: dict[str, float] = field(default_factory=dict)
    failed: tuple[str, ...] = field(default_factory=tuple)
    history: tuple[Turn, ...] = ()

    @property
    def confidence(self) -> float | None:
        """The answerer's confidence: its best citation score (None when it cited nothing)."""
        return max((c.score for c in self.cited), default=None)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["latency_ms"] = round(self.latency_ms, 2)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QuestionResult:
        values = dict(data)
        values["tags"] = tuple(values.get("tags", ()))
        values["retrieved"] = tuple(Retrieved(**r) for r in values.get("retrieved", ()))
        values["cited"] = tuple(Cited(**c) for c in values.get("cited", ()))
        # Absent from results.jsonl files written before follow-ups were recorded.
        values["history"] = tuple(Turn(**t) for t in values.get("history", ()))
        for name in ("facts_found", "facts_missing", "failed"):
            values[name] = tuple(values.get(name, ()))
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in values.items() if k in known})


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
