"""What one question's run produced: enough to score it and to see why it failed."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from assistant.types import Turn


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
