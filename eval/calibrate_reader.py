"""Calibrate the reader's answerability threshold: ``tanya eval calibrate-reader SET...``.

Every set is run with the reader on and its threshold off; each language of each set
gets the threshold ``eval.calibrate.choose_threshold`` picks (midway between neighbouring
scores, within ``max_false_refusal``), and the lowest of them is kept. It is written to
``calibration.json`` under ``"reader"`` with the adapter's hash: a retrained adapter is
uncalibrated until this runs again.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from eval.calibrate import choose_threshold
from eval.configuration import EvalConfig, open_service
from eval.metrics import auroc, refused_at_false_rate
from eval.questionset import QuestionSet
from eval.results import QuestionResult
from eval.runner import EvalRunner
from index.documents import Document


def groups(name: str, results: Sequence[QuestionResult]
           ) -> dict[str, tuple[list[float], list[float]]]:
    """(answerable, unanswerable) answerability scores per ``SET:LANG``."""
    out: dict[str, tuple[list[float], list[float]]] = {}
    for r in results:
        if r.error is not None or r.answerability is None:
            continue
        pair = out.setdefault(f"{name}:{r.lang}", ([], []))
        (pair[0] if r.answerable else pair[1]).append(r.answerability)
    return out


def pooled_threshold(scores: dict[str, tuple[list[float], list[float]]],
                     max_false_refusal: float) -> float:
    """The lowest of the groups' chosen thresholds: the strictest language of any set
    decides, so none refuses more than its false-refusal budget."""
    return min(choose_threshold(a, u, max_false_refusal).chosen.threshold
               for a, u in scores.values())


def calibrate_reader(sets: Sequence[tuple[QuestionSet, Sequence[Document]]],
                     config: EvalConfig, max_false_refusal: float) -> dict[str, Any]:
    """The calibration entry for the shipped adapter over ``sets``."""
    config = replace(config, reader="on")
    scores: dict[str, tuple[list[float], list[float]]] = {}
    sha = ""
    for qset, documents in sets:
        service = open_service(config, documents)
        service.settings = replace(service.settings, reader_threshold=-math.inf)
        sha = service.reader().adapter.sha256
        scores.update(groups(qset.name, EvalRunner(service).run(qset.questions)))
    threshold = pooled_threshold(scores, max_false_refusal)
    report = {}
    for key, (a, u) in sorted(scores.items()):
        report[key] = {
            "answerable": len(a), "unanswerable": len(u),
            "false_refusal_rate": round(sum(s < threshold for s in a) / len(a), 4) if a else None,
            "refusal_accuracy": round(sum(s < threshold for s in u) / len(u), 4) if u else None,
            "auroc": _round(auroc(a, u)),
            "refused_at_5pct_false": _round(refused_at_false_rate(a, u)),
        }
    return {"threshold": round(threshold, 4), "adapter_sha256": sha,
            "max_false_refusal_rate": max_false_refusal,
            "question_sets": sorted({qset.name for qset, _ in sets}), "sets": report}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
