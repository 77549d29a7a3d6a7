"""The reader's threshold: per set and language, the strictest one wins."""

from __future__ import annotations

import math

from eval.calibrate_reader import groups, pooled_threshold
from tests.eval.factories import result


def test_scores_are_grouped_by_set_and_language_without_errors_or_missing_scores() -> None:
    results = [result("a", True, "en", answerability=2.0),
               result("b", False, "en", answerability=-1.0),
               result("c", True, "id", answerability=1.5),
               result("d", True, "id", answerability=None),
               result("e", False, "id", answerability=0.5, error="bad question")]
    assert groups("s", results) == {"s:en": ([2.0], [-1.0]), "s:id": ([1.5], [])}


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
