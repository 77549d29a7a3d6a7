"""The reader's threshold: per language, the strictest set wins."""

from __future__ import annotations

import math

from assistant.reader.answerability import Combiner
from eval.calibrate_reader import (
    group_report,
    groups,
    language_thresholds,
    pooled_threshold,
)
from tests.eval.factories import result

# Answerability = 2 * reader - 1.
COMBINER = Combiner(("reader",), (2.0,), (0.5,), (1.0,), 0.0)


def test_scores_are_combined_and_grouped_by_set_and_language_without_errors() -> None:
    results = [result("a", True, "en", signals={"reader": 2.0}),
               result("b", False, "en", signals={"reader": -1.0}),
               result("c", True, "id", signals={"reader": 1.5}),
               result("d", True, "id", signals={}),  # nothing read: refused
               result("e", False, "id", signals={"reader": 0.5}, error="bad question")]
    assert groups("s", results, COMBINER) == {"s:en": ([3.0], [-3.0]),
                                               "s:id": ([2.0, -math.inf], [])}


def test_each_language_gets_the_threshold_of_its_strictest_set() -> None:
    answerable = [float(i) for i in range(1, 21)]
    scores = {"a:en": (answerable, [-5.0]), "b:en": ([a - 3 for a in answerable], [-6.0]),
              "a:id": ([a + 10 for a in answerable], [0.0])}
    thresholds = language_thresholds(scores, 0.05)
    assert thresholds["en"] == pooled_threshold({"b:en": scores["b:en"]}, 0.05)
    assert thresholds["id"] == pooled_threshold({"a:id": scores["a:id"]}, 0.05)
    assert thresholds["id"] > thresholds["en"]


def test_no_group_refuses_more_than_its_budget_of_answerable_questions() -> None:
    lenient = ([float(i) for i in range(1, 21)], [-5.0, -4.0, 0.5])
    strict = ([float(i) - 3 for i in range(1, 21)], [-6.0, -5.5])
    scores = {"a:en": lenient, "b:id": strict}
    threshold = pooled_threshold(scores, 0.05)
    for answerable, _ in scores.values():
        assert sum(s < threshold for s in answerable) <= 1  # 5% of 20
    # The strict group decides: with the lenient group's own threshold it would refuse 4.
    assert threshold == pooled_threshold({"b:id": strict}, 0.05)
    assert threshold < pooled_threshold({"a:en": lenient}, 0.05)
    assert math.isfinite(threshold)


def test_a_set_without_answerable_questions_sets_no_threshold() -> None:
    answerable = [float(i) for i in range(1, 21)]
    with_offtopic = {"a:en": (answerable, [-5.0]), "offtopic:en": ([], [30.0, 40.0]),
                     "offtopic:fr": ([], [1.0])}
    assert language_thresholds(with_offtopic, 0.05) == {
        "en": pooled_threshold({"a:en": with_offtopic["a:en"]}, 0.05)}


def test_the_report_names_each_groups_own_threshold_and_the_one_that_decides() -> None:
    answerable = [float(i) for i in range(1, 21)]
    # Each refuses one answerable question (its 5%) to refuse its second unanswerable one.
    scores = {"a:en": (answerable, [-5.0, 1.5]),
              "b:en": ([a - 3 for a in answerable], [-6.0, -1.5]),
              "offtopic:en": ([], [30.0])}
    thresholds = language_thresholds(scores, 0.05)
    report = group_report(scores, thresholds, thresholds["en"], 0.05)
    own = {key: row["own_threshold"] for key, row in report.items()}
    assert own["a:en"] == pooled_threshold({"a:en": scores["a:en"]}, 0.05)
    assert own["b:en"] == pooled_threshold({"b:en": scores["b:en"]}, 0.05) < own["a:en"]
    assert own["offtopic:en"] is None  # no answerable questions: no threshold of its own
    assert thresholds["en"] == own["b:en"]  # the strictest group's is the language's
    # Each group is reported at the language's threshold, not its own.
    assert report["a:en"]["false_refusal_rate"] == 0.0
    assert report["b:en"]["false_refusal_rate"] == 0.05
    assert report["offtopic:en"]["refusal_accuracy"] == 0.0
