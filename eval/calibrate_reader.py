"""Calibrate the reader's answerability: ``tanya eval calibrate-reader SET...``.

Every set is run with the reader on and its threshold off, and each question's signals
are kept (``assistant.reader.answerability.SIGNALS``). A logistic model over them is
fitted on all the sets' questions together; then each language of each set gets the
threshold ``eval.calibrate.choose_threshold`` picks on the combined score (midway between
neighbouring scores, within ``max_false_refusal``), and the lowest of them is kept. Both
are written to ``calibration.json`` under ``"reader"`` with the adapter's hash and the
embedder: a retrained adapter or another embedder is uncalibrated until this runs again.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from assistant.errors import ConfigError
from assistant.reader.answerability import Combiner, fit
from eval.calibrate import choose_threshold
from eval.configuration import EvalConfig, open_service
from eval.metrics import auroc, refused_at_false_rate
from eval.questionset import QuestionSet
from eval.results import QuestionResult
from eval.runner import EvalRunner
from index.documents import Document


def groups(name: str, results: Sequence[QuestionResult], combiner: Combiner
           ) -> dict[str, tuple[list[float], list[float]]]:
    """(answerable, unanswerable) combined answerability per ``SET:LANG``; a question
    the reader could not read (no signals) counts as scoring -inf."""
    out: dict[str, tuple[list[float], list[float]]] = {}
    for r in results:
        if r.error is not None:
            continue
        pair = out.setdefault(f"{name}:{r.lang}", ([], []))
        (pair[0] if r.answerable else pair[1]).append(combiner.score(r.signals))
    return out


def group_thresholds(scores: dict[str, tuple[list[float], list[float]]],
                     max_false_refusal: float) -> dict[str, float]:
    """Each group's own threshold (``choose_threshold``). A group without both kinds of
    question (``offtopic`` has no answerable ones) has none; it still counts in the fit."""
    return {key: choose_threshold(a, u, max_false_refusal).chosen.threshold
            for key, (a, u) in scores.items() if a and u}


def pooled_threshold(scores: dict[str, tuple[list[float], list[float]]],
                     max_false_refusal: float) -> float:
    """The lowest of the groups' own thresholds: the strictest group decides, so none
    refuses more than its false-refusal budget."""
    chosen = list(group_thresholds(scores, max_false_refusal).values())
    if not chosen:
        raise ConfigError("reader calibration needs a set with answerable and unanswerable "
                          "questions in one language")
    return min(chosen)


def language_thresholds(scores: dict[str, tuple[list[float], list[float]]],
                        max_false_refusal: float) -> dict[str, float]:
    """Per question language (``SET:LANG`` groups), the pooled threshold of its groups:
    English questions over Indonesian text score lower on every signal, so one
    threshold for both would spend the budget on one language."""
    langs = sorted({key.rpartition(":")[2] for key in scores})
    out = {}
    for lang in langs:
        mine = {k: v for k, v in scores.items() if k.rpartition(":")[2] == lang}
        if any(a and u for a, u in mine.values()):
            out[lang] = pooled_threshold(mine, max_false_refusal)
    return out


def calibrate_reader(sets: Sequence[tuple[QuestionSet, Sequence[Document]]],
                     config: EvalConfig, max_false_refusal: float) -> dict[str, Any]:
    """The calibration entry for the shipped adapter over ``sets``."""
    config = replace(config, reader="on")
    runs: list[tuple[str, list[QuestionResult]]] = []
    sha = embedder = ""
    for qset, documents in sets:
        service = open_service(config, documents)
        service.settings = replace(service.settings, reader_threshold=-math.inf)
        sha = service.reader().adapter.sha256
        embedder = service.embedder.calibration_spec
        runs.append((qset.name, EvalRunner(service).run(qset.questions)))
    scored = [r for _, results in runs for r in results if r.error is None]
    combiner = fit([r.signals for r in scored], [r.answerable for r in scored])
    scores: dict[str, tuple[list[float], list[float]]] = {}
    for name, results in runs:
        scores.update(groups(name, results, combiner))
    threshold = pooled_threshold(scores, max_false_refusal)
    thresholds = language_thresholds(scores, max_false_refusal)
    report = group_report(scores, thresholds, threshold, max_false_refusal)
    return {"threshold": round(threshold, 4),
            "thresholds": {lang: round(t, 4) for lang, t in thresholds.items()},
            "adapter_sha256": sha, "embedder": embedder,
            # What the reader read: a threshold fits the window size it was made at.
            "reader_chars": config.reader_chars,
            "combiner": combiner.to_dict(),
            "max_false_refusal_rate": max_false_refusal,
            "question_sets": sorted({qset.name for qset, _ in sets}), "sets": report}


def group_report(scores: dict[str, tuple[list[float], list[float]]],
                 thresholds: dict[str, float], fallback: float, max_false_refusal: float
                 ) -> dict[str, dict[str, Any]]:
    """Per group, at its language's threshold (``fallback`` for a language without one):
    what it refuses, how well it ranks, and its own threshold, so the report shows which
    group set each language's (the lowest own threshold of that language)."""
    own = group_thresholds(scores, max_false_refusal)
    report = {}
    for key, (a, u) in sorted(scores.items()):
        threshold_here = thresholds.get(key.rpartition(":")[2], fallback)
        report[key] = {
            "answerable": len(a), "unanswerable": len(u),
            "own_threshold": _round(own.get(key)),
            "false_refusal_rate": _share(a, threshold_here),
            "refusal_accuracy": _share(u, threshold_here),
            "auroc": _round(auroc(a, u)),
            "refused_at_5pct_false": _round(refused_at_false_rate(a, u)),
        }
    return report


def _share(scores: Sequence[float], threshold: float) -> float | None:
    """The share of ``scores`` refused (below ``threshold``)."""
    return round(sum(s < threshold for s in scores) / len(scores), 4) if scores else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
