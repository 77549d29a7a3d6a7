"""A run's summary: the metrics overall, per language and per tag, plus what was run."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eval.metrics import group_metrics
from eval.results import QuestionResult


def is_category(tag: str) -> bool:
    """Tags like ``pair:p001`` identify questions rather than group them: not broken out."""
    return ":" not in tag


def summarize(results: Sequence[QuestionResult], run: dict[str, Any] | None = None
              ) -> dict[str, Any]:
    """The summary.json object: DESIGN.md's metrics at the top level, then breakdowns
    (``by_lang``, ``by_tag``) and ``run`` details (config, versions, timing)."""
    langs = sorted({r.lang for r in results})
    tags = sorted({t for r in results for t in r.tags if is_category(t)})
    return {
        **group_metrics(results),
        "by_lang": {lang: group_metrics([r for r in results if r.lang == lang])
                    for lang in langs},
        "by_tag": {tag: group_metrics([r for r in results if tag in r.tags]) for tag in tags},
        "failed_questions": sum(1 for r in results if r.failed),
        **(run or {}),
    }
