"""Calibrate the refusal threshold of the extractive answerer on a question set.

The answerer refuses when its confidence (the best blended sentence score, which is the
highest citation score when it answers) is below the threshold. Calibration runs the set
with refusals disabled, reads each question's confidence, and picks the threshold that
refuses the most unanswerable questions while refusing at most ``max_false_refusal_rate``
of the answerable ones. Thresholds sit midway between neighbouring confidences, so the
choice does not hinge on a score landing exactly on it. Deterministic for a given
embedder, corpus, chunking and answerer configuration.

The off-topic check (``assistant.background``) is calibrated with it: the set is run with
and without the check, and the check is kept for the embedder only when it refuses more
unanswerable questions within the same false refusal budget (for a bag-of-words
``hash:`` embedder it does not).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise
from pathlib import Path
from typing import Any

import assistant.calibration
from assistant.errors import ConfigError
from eval.configuration import EvalConfig, describe_service, open_service
from eval.questionset import QuestionSet
from eval.results import QuestionResult
from eval.runner import EvalRunner
from index.documents import Document

DEFAULT_MAX_FALSE_REFUSAL_RATE = 0.05
# The off-topic check refuses when (best index sentence - best background sentence) is
# below this. Below zero, so only a clear lead of the background refuses: on-topic
# questions phrased like a request can land a hair closer to a generic line (by
# 0.001-0.013 on the shipped sets). Calibration writes it to calibration.json, which is
# where the service reads it.
OFF_TOPIC_MARGIN = -0.02
# Same file assistant.calibration reads (it keeps the name private).
CALIBRATION_FILE = assistant.calibration.CALIBRATION_PATH


@dataclass(frozen=True)
class ThresholdOption:
    """What refusing below ``threshold`` does on the calibration set."""

    threshold: float
    refused_unanswerable: int
    unanswerable: int
    refused_answerable: int
    answerable: int

    @property
    def refusal_accuracy(self) -> float:
        return self.refused_unanswerable / self.unanswerable if self.unanswerable else 0.0

    @property
    def false_refusal_rate(self) -> float:
        return self.refused_answerable / self.answerable if self.answerable else 0.0


@dataclass(frozen=True)
class Calibration:
    """The chosen option, the trade-off table around it, and the raw confidences."""

    chosen: ThresholdOption
    frontier: list[ThresholdOption]
    answerable: list[float]
    unanswerable: list[float]


def threshold_options(answerable: Sequence[float], unanswerable: Sequence[float]
                      ) -> list[ThresholdOption]:
    """Every distinct way to refuse: below, between (midpoints) and above the scores.

    A question without a confidence (it could not cite anything) is passed as -inf:
    it is refused whatever the threshold.
    """
    scores = sorted({s for s in [*answerable, *unanswerable] if math.isfinite(s)})
    if not scores:
        return []
    cuts = [scores[0] - 0.01]
    cuts += [_midpoint(low, high) for low, high in pairwise(scores)]
    cuts.append(scores[-1] + 0.01)
    return [ThresholdOption(t, sum(s < t for s in unanswerable), len(unanswerable),
                            sum(s < t for s in answerable), len(answerable)) for t in cuts]


def choose_threshold(answerable: Sequence[float], unanswerable: Sequence[float],
                     max_false_refusal_rate: float = DEFAULT_MAX_FALSE_REFUSAL_RATE
                     ) -> Calibration:
    """The option with the best refusal accuracy whose false refusal rate is allowed
    (ties: the fewer false refusals, then the lower threshold)."""
    if not answerable or not unanswerable:
        raise ConfigError("calibration needs both answerable and unanswerable questions")
    options = threshold_options(answerable, unanswerable)
    allowed = [o for o in options if o.false_refusal_rate <= max_false_refusal_rate]
    if not allowed:
        raise ConfigError(
            f"no threshold keeps false refusals at or under {max_false_refusal_rate:.0%}: "
            "too many answerable questions get no citation at all")
    chosen = max(allowed, key=lambda o: (o.refused_unanswerable, -o.refused_answerable,
                                         -o.threshold))
    frontier = _frontier(options, limit=max(0.25, max_false_refusal_rate))
    return Calibration(chosen, frontier, sorted(answerable), sorted(unanswerable))


def confidences(results: Sequence[QuestionResult]) -> tuple[list[float], list[float]]:
    """(answerable, unanswerable) confidences of a run made with refusals disabled."""
    def value(r: QuestionResult) -> float:
        return r.confidence if r.confidence is not None else -math.inf

    usable = [r for r in results if not r.error]
    return ([value(r) for r in usable if r.answerable],
            [value(r) for r in usable if not r.answerable])


def calibrate_set(qset: QuestionSet, config: EvalConfig, documents: Sequence[Document],
                  max_false_refusal_rate: float = DEFAULT_MAX_FALSE_REFUSAL_RATE,
                  progress: Callable[[int, int], None] | None = None
                  ) -> tuple[Calibration, dict[str, Any]]:
    """Run ``qset`` on the sentence path (the reader off, whatever ``config`` says) with
    the threshold off, with and without the off-topic check, and choose; returns the
    calibration and the entry to store for the embedder."""
    # -inf, not 0: a blended score can be negative, and nothing may be refused here. The
    # reader off: with it on, its answerability alone decides and this threshold is moot.
    service = open_service(replace(config, threshold=-math.inf, llm="", reader="off"),
                           documents)
    runs: list[tuple[Calibration, float | None]] = []
    failure: ConfigError | None = None
    for margin in (None, OFF_TOPIC_MARGIN):
        service.off_topic_margin = margin
        results = EvalRunner(service, progress=progress).run(qset.questions)
        try:
            runs.append((choose_threshold(*confidences(results), max_false_refusal_rate),
                         margin))
        except ConfigError as exc:
            failure = exc
    if not runs:
        raise failure or ConfigError("calibration chose nothing")
    # The check must pay for itself: kept only if it refuses more within the budget.
    calibration, margin = max(runs, key=lambda run: (run[0].chosen.refused_unanswerable,
                                                     -run[0].chosen.refused_answerable,
                                                     run[1] is None))
    service.off_topic_margin = margin
    described = describe_service(service)
    chosen = calibration.chosen
    entry = {
        "threshold": chosen.threshold,
        "off_topic_margin": margin,
        "question_set": qset.name,
        "sha256": qset.sha256,
        "refusal_accuracy": round(chosen.refusal_accuracy, 4),
        "false_refusal_rate": round(chosen.false_refusal_rate, 4),
        "max_false_refusal_rate": max_false_refusal_rate,
        "answerable": chosen.answerable,
        "unanswerable": chosen.unanswerable,
        "k": service.settings.k,
        "reader": described["config"]["reader"],
        "chunker": described["config"]["chunker"],
        "extractive": described["config"]["extractive"],
        "corpus_sha256": described["corpus"]["sha256"],
    }
    return calibration, entry


def write_calibration(path: Path, embedder: str, entry: dict[str, Any]) -> None:
    """Set ``embedder``'s entry in the calibration file, keeping the others; atomic."""
    try:
        current = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    except ValueError as exc:
        raise ConfigError(f"{path} is not valid JSON ({exc}); fix or delete it") from None
    if not isinstance(current, dict):
        raise ConfigError(f"{path} must hold a JSON object")
    current[embedder] = entry
    text = json.dumps(current, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".calibration-")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except OSError as exc:  # strerror: not the temporary file's name
        raise ConfigError(f"cannot write {path}: {exc.strerror or exc}") from None
    assistant.calibration.clear_cache()


def format_calibration(calibration: Calibration, embedder: str) -> str:
    """The trade-off table and the confidence ranges, for the terminal."""
    def spread(values: list[float]) -> str:
        finite = [v for v in values if math.isfinite(v)]
        always = len(values) - len(finite)
        note = f"; {always} refused for other reasons (no confidence)" if always else ""
        if not finite:
            return "no confidences" + note
        mid = finite[len(finite) // 2]
        return f"min {finite[0]:.4f}  median {mid:.4f}  max {finite[-1]:.4f}{note}"

    lines = [f"embedder {embedder}: confidence (best sentence score) with refusals off",
             f"  answerable   ({len(calibration.answerable)}): {spread(calibration.answerable)}",
             f"  unanswerable ({len(calibration.unanswerable)}): "
             f"{spread(calibration.unanswerable)}", "",
             "  threshold  refusal accuracy        false refusal rate"]
    for o in calibration.frontier:
        mark = "  <- chosen" if o == calibration.chosen else ""
        lines.append(f"  {o.threshold:9.4f}  {o.refusal_accuracy:.3f} "
                     f"({o.refused_unanswerable:>3}/{o.unanswerable:<3})   "
                     f"{o.false_refusal_rate:.3f} ({o.refused_answerable:>3}/{o.answerable:<3})"
                     f"{mark}")
    return "\n".join(lines)


def _midpoint(low: float, high: float) -> float:
    """The midpoint, rounded to the fewest decimals that keep it strictly between."""
    mid = (low + high) / 2
    for digits in range(2, 12):
        rounded = round(mid, digits)
        if low < rounded < high:
            return rounded
    return mid


def _frontier(options: Sequence[ThresholdOption], limit: float) -> list[ThresholdOption]:
    """The trade-offs worth reading (up to ``limit`` false refusals): each row refuses
    more unanswerable questions than every row with fewer false refusals."""
    rows: list[ThresholdOption] = []
    for o in sorted(options, key=lambda o: (o.refused_answerable, -o.refused_unanswerable,
                                            o.threshold)):
        if o.false_refusal_rate > limit:
            break
        if not rows or o.refused_unanswerable > rows[-1].refused_unanswerable:
            rows.append(o)
    return rows
