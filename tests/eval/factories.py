"""Hand-made question results for metric, report and compare tests."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from eval.failures import failures
from eval.results import Cited, QuestionResult


def cited(passage_rank: int, relevant: bool, score: float = 0.8, n: int = 1) -> Cited:
    return Cited(n=n, passage_rank=passage_rank, paragraph=passage_rank, quote="q",
                 score=score, relevant=relevant)


def result(qid: str, answerable: bool = True, lang: str = "en", **fields: Any
           ) -> QuestionResult:
    """A scored result; ``failed`` is derived from the fields like the runner does."""
    base = QuestionResult(id=qid, lang=lang, question=f"question {qid}?",
                          answerable=answerable, latency_ms=10.0)
    made = replace(base, **fields)
    return replace(made, failed=failures(made))
