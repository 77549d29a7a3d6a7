"""The data an answer is made of; ``to_dict`` gives the JSON contract of DESIGN.md."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Role = Literal["user", "assistant"]


@dataclass(frozen=True)
class Turn:
    """One earlier message of the conversation."""

    role: Role
    content: str


#: Document metadata a passage or citation may carry beside its title.
METADATA = ("url", "published", "author")


def _known_metadata(source: Passage | Citation) -> dict[str, str]:
    """The metadata ``source`` has: DESIGN's contract leaves out what a document lacks."""
    return {key: value for key in METADATA if (value := getattr(source, key))}


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk, ranked from 1."""

    rank: int
    chunk_id: str
    doc_id: str
    title: str
    section: str
    paragraph: int
    start: int
    end: int
    text: str
    score: float
    url: str = ""
    published: str = ""
    author: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"rank": self.rank, "doc_id": self.doc_id, "paragraph": self.paragraph,
                "section": self.section, "start": self.start, "end": self.end,
                "text": self.text, "score": round(self.score, 4), **_known_metadata(self)}


@dataclass(frozen=True)
class Citation:
    """An exact quote: ``document.text[start:end] == quote``."""

    n: int
    doc_id: str
    title: str
    section: str
    paragraph: int
    quote: str
    start: int
    end: int
    score: float
    passage_rank: int
    url: str = ""
    published: str = ""
    author: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if k not in METADATA}
        data["score"] = round(self.score, 4)
        return {**data, **_known_metadata(self)}


@dataclass(frozen=True)
class AnswerSpan:
    """The reader's short answer: ``document.text[start:end] == text``."""

    text: str
    doc_id: str
    start: int
    end: int
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "doc_id": self.doc_id, "start": self.start,
                "end": self.end, "score": round(self.score, 4)}


@dataclass
class Answer:
    """What the assistant says, with everything needed to check it."""

    question: str
    answer: str
    refused: bool
    lang: str
    citations: list[Citation] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    standalone_query: str = ""
    warnings: list[str] = field(default_factory=list)
    refusal_reason: str = ""
    # The reader's short answer (None when refused or with the reader off) and its
    # answerability score (higher: more likely answered; None with the reader off).
    answer_span: AnswerSpan | None = None
    answerability: float | None = None
    # What answerability was computed from (the reader's span score, retrieval
    # similarity, the background lead): for analysts, and for calibration to learn from.
    signals: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.answer,
            "refused": self.refused,
            "lang": self.lang,
            "citations": [c.to_dict() for c in self.citations],
            "passages": [p.to_dict() for p in self.passages],
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
            "standalone_query": self.standalone_query,
            "warnings": list(self.warnings),
            "refusal_reason": self.refusal_reason,
            "answer_span": self.answer_span.to_dict() if self.answer_span else None,
            "answerability": (round(self.answerability, 4)
                              if self.answerability is not None else None),
            "signals": {k: round(v, 4) for k, v in self.signals.items()},
        }
