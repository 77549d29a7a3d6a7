"""A run's summary: the metrics overall, per language and per tag, plus what was run."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eval.metrics import group_metrics, metric_value
from eval.results import QuestionResult

# The service cuts answerability per language (calibration.json's "thresholds"); a group
# holding several languages gets one cut over scores whose scales differ, so its figure can
# sit below every language's own and describes no cut the service makes.
POOLED_AT_5PCT = ("one cut over all languages' pooled scores, whose scales differ; the "
                  "service cuts per language, so this can sit below every language's figure")
POOLED_AUROC = ("ranks all languages' questions together, on scores whose scales differ; "
                "the service cuts per language, so this can sit below every language's "
                "figure")


def is_category(tag: str) -> bool:
    """Tags like ``pair:p001`` identify questions rather than group them: not broken out."""
    return ":" not in tag


def summarize(results: Sequence[QuestionResult], run: dict[str, Any] | None = None
              ) -> dict[str, Any]:
    """The summary.json object: DESIGN.md's metrics at the top level, then breakdowns
    (``by_lang``, ``by_tag``), ``notes`` on top-level figures that need one and ``run``
    details (config, versions, timing)."""
    langs = sorted({r.lang for r in results})
    tags = sorted({t for r in results for t in r.tags if is_category(t)})
    summary = {
        **group_metrics(results),
        "by_lang": {lang: group_metrics([r for r in results if r.lang == lang])
                    for lang in langs},
        "by_tag": {tag: group_metrics([r for r in results if tag in r.tags]) for tag in tags},
        "failed_questions": sum(1 for r in results if r.failed),
    }
    return {**summary, "notes": notes(summary), **(run or {})}


def notes(summary: dict[str, Any]) -> dict[str, str]:
    """Caveats on the top-level figures, by metric name; empty when there are none."""
    if len(summary.get("by_lang", {})) < 2:
        return {}
    pooled = {"refusal.auroc": POOLED_AUROC, "refusal.at_5pct_false": POOLED_AT_5PCT}
    return {name: note for name, note in pooled.items()
            if metric_value(summary, name) is not None}
