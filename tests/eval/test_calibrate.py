"""Threshold choice on hand-made confidences with known best answers."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from assistant.errors import ConfigError
from eval.calibrate import choose_threshold, confidences, format_calibration, write_calibration
from tests.eval.factories import cited, result

ANSWERABLE = [0.9, 0.85, 0.8, 0.6]
UNANSWERABLE = [0.5, 0.7, 0.82]


def test_best_refusal_accuracy_within_the_false_refusal_budget() -> None:
    # Refusing below a cut between 0.7 and 0.8 refuses 0.5 and 0.7 (2/3) and one
    # answerable (0.6, 1/4); any higher cut refuses a second answerable question.
    loose = choose_threshold(ANSWERABLE, UNANSWERABLE, max_false_refusal_rate=0.25)
    assert 0.7 < loose.chosen.threshold < 0.8
    assert loose.chosen.refusal_accuracy == pytest.approx(2 / 3)
    assert loose.chosen.false_refusal_rate == pytest.approx(1 / 4)
    # With no false refusals allowed, only 0.5 can be refused: the cut lies below 0.6.
    strict = choose_threshold(ANSWERABLE, UNANSWERABLE, max_false_refusal_rate=0.0)
    assert 0.5 < strict.chosen.threshold < 0.6
    assert strict.chosen.refusal_accuracy == pytest.approx(1 / 3)
    assert strict.chosen.false_refusal_rate == 0.0


def test_the_threshold_sits_between_neighbouring_scores_not_on_one() -> None:
    chosen = choose_threshold([0.80, 0.81], [0.79], max_false_refusal_rate=0.0).chosen
    assert 0.79 < chosen.threshold < 0.80
    assert chosen.refusal_accuracy == 1.0


def test_questions_without_confidence_are_refused_at_any_threshold() -> None:
    with_blocked = choose_threshold(ANSWERABLE, [*UNANSWERABLE, -math.inf],
                                    max_false_refusal_rate=0.0)
    assert with_blocked.chosen.refused_unanswerable == 2
    assert with_blocked.chosen.unanswerable == 4
    with pytest.raises(ConfigError, match="no threshold keeps false refusals"):
        choose_threshold([-math.inf, -math.inf, 0.9], UNANSWERABLE, 0.05)
    with pytest.raises(ConfigError, match="both answerable and unanswerable"):
        choose_threshold(ANSWERABLE, [])


def test_frontier_lists_only_trade_offs_and_marks_the_choice() -> None:
    calibration = choose_threshold(ANSWERABLE, UNANSWERABLE, max_false_refusal_rate=0.25)
    counts = [(o.refused_answerable, o.refused_unanswerable) for o in calibration.frontier]
    assert counts == [(0, 1), (1, 2)]  # (1, 1) is dominated by (0, 1); (2, ...) is > 25%
    text = format_calibration(calibration, "e5-small-q4")
    chosen_line = next(line for line in text.splitlines() if "<- chosen" in line)
    assert "(  2/3  )" in chosen_line and "(  1/4  )" in chosen_line


def test_confidence_is_the_best_citation_score() -> None:
    results = [result("a", cited=(cited(1, True, score=0.7), cited(2, True, score=0.9, n=2))),
               result("b", refused=True),
               result("c", error="question too long"),
               result("u", answerable=False, cited=(cited(1, False, score=0.6),))]
    answerable, unanswerable = confidences(results)
    assert answerable == [0.9, -math.inf]
    assert unanswerable == [0.6]


def test_write_calibration_refuses_a_broken_file(tmp_path: Path) -> None:
    target = tmp_path / "calibration.json"
    target.write_text("[1, 2]")
    with pytest.raises(ConfigError, match="must hold a JSON object"):
        write_calibration(target, "e5-small-q4", {"threshold": 0.8})
    target.write_text("{oops")
    with pytest.raises(ConfigError, match="not valid JSON"):
        write_calibration(target, "e5-small-q4", {"threshold": 0.8})
    target.unlink()
    write_calibration(target, "e5-small-q4", {"threshold": 0.8})
    assert json.loads(target.read_text()) == {"e5-small-q4": {"threshold": 0.8}}
