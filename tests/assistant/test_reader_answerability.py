"""The combined answerability (a logistic model over the reader's signals) and what the
reader reads of a passage."""

from __future__ import annotations

import math
import random

import pytest

from assistant.reader.answerability import Combiner, fit
from assistant.reader.focus import Span, focus


def _rows(seed: int) -> tuple[list[dict[str, float]], list[bool]]:
    """Answerable questions score higher on ``reader``; ``similarity`` is noise."""
    rng = random.Random(seed)
    rows, labels = [], []
    for i in range(400):
        answerable = i % 2 == 0
        rows.append({"reader": rng.gauss(3.0 if answerable else -3.0, 2.0),
                     "similarity": rng.gauss(0.8, 0.05),
                     "background_lead": rng.gauss(0.05, 0.03)})
        labels.append(answerable)
    return rows, labels


def test_the_fit_weights_the_signal_that_separates() -> None:
    rows, labels = _rows(1)
    combiner = fit(rows, labels)
    weights = dict(zip(combiner.names, combiner.weights, strict=True))
    assert weights["reader"] > 1.0
    assert abs(weights["similarity"]) < weights["reader"] / 5
    right = sum((combiner.score(r) > 0) == y for r, y in zip(rows, labels, strict=True))
    assert right / len(rows) > 0.9


def test_the_fit_is_deterministic_and_survives_a_round_trip() -> None:
    rows, labels = _rows(2)
    a, b = fit(rows, labels), fit(rows, labels)
    assert a == b
    again = Combiner.from_dict(a.to_dict())
    assert again.score(rows[0]) == pytest.approx(a.score(rows[0]), abs=1e-4)


def test_a_missing_or_infinite_signal_scores_minus_infinity() -> None:
    rows, labels = _rows(3)
    combiner = fit(rows, labels)
    assert combiner.score({"reader": 1.0}) == -math.inf
    assert combiner.score({**rows[0], "reader": -math.inf}) == -math.inf


def test_the_fit_leaves_out_unusable_rows_and_needs_both_labels() -> None:
    rows, labels = _rows(4)
    with_bad = [*rows, {"reader": math.nan, "similarity": 0.8, "background_lead": 0.0}, {}]
    assert fit(with_bad, [*labels, True, False]) == fit(rows, labels)
    with pytest.raises(ValueError, match="answerable and unanswerable"):
        fit(rows[::2], labels[::2])


SENTENCES = [Span(0, 100), Span(101, 200), Span(201, 300), Span(301, 400), Span(401, 500)]


def test_focus_grows_the_best_sentence_by_whole_neighbours_within_the_budget() -> None:
    assert focus(SENTENCES, 2, budget=100) == (201, 300)
    assert focus(SENTENCES, 2, budget=199) == (201, 400)  # the next sentence first
    assert focus(SENTENCES, 2, budget=299) == (101, 400)
    assert focus(SENTENCES, 0, budget=10_000) == (0, 500)


def test_focus_keeps_a_best_sentence_longer_than_the_budget() -> None:
    assert focus(SENTENCES, 4, budget=50) == (401, 500)
