"""The reader's metrics (span EM/F1, answerability AUROC, refusals at 5% false) on
hand-made inputs whose answers are worked out by hand."""

from __future__ import annotations

import math
import random

import pytest

from eval.metrics import (
    HIGHER_IS_BETTER,
    answerability_scores,
    auroc,
    group_metrics,
    normalize_answer,
    refused_at_false_rate,
    span_exact_match,
    span_f1,
)
from eval.results import QuestionResult
from eval.summary import summarize
from tests.eval.factories import result

INF = math.inf


# -- normalisation, exact match, F1 --------------------------------------------------------
@pytest.mark.parametrize(("text", "expected"), [
    ("The  Budapest Memorandum, 1994!", "budapest memorandum 1994"),
    ("an apple a day", "apple day"),
    ("Theatre at another anthem", "theatre at another anthem"),  # articles only as words
    ("“Pasal 5” NATO…", "pasal 5 nato"),  # Unicode punctuation too
    ("Rusia-Ukraina", "rusiaukraina"),  # punctuation is removed, not split on (SQuAD)
    ("  \tA\n", ""),
])
def test_normalize_answer_is_squad_style(text: str, expected: str) -> None:
    assert normalize_answer(text) == expected


def test_exact_match_after_normalisation() -> None:
    assert span_exact_match("the Memorandum Budapest 1994.", "Memorandum  Budapest 1994") == 1.0
    assert span_exact_match("Memorandum Budapest", "Memorandum Budapest 1994") == 0.0
    assert span_exact_match(None, "Budapest") == 0.0


def test_token_f1_by_hand() -> None:
    # pred {budapest, memorandum}, gold {memorandum, budapest, 1994}: p 1, r 2/3 -> 0.8
    assert span_f1("the Budapest memorandum", "Memorandum Budapest 1994") == pytest.approx(0.8)
    # repeated tokens count as often as both sides have them: common {x, y}, p 2/3, r 1
    assert span_f1("x x y", "x y") == pytest.approx(0.8)
    assert span_f1("Kyiv", "Moskwa") == 0.0
    assert span_f1("Budapest", "budapest!") == 1.0
    assert span_f1(None, "Budapest") == 0.0
    assert span_f1("the", "Budapest") == 0.0  # nothing left of the span
    assert span_f1("a", "the") == 1.0  # both empty: they match, as in SQuAD


# -- AUROC --------------------------------------------------------------------------------
def test_auroc_by_hand_with_ties_counting_half() -> None:
    assert auroc([0.9, 0.8], [0.1, 0.2]) == 1.0
    assert auroc([0.1, 0.2], [0.9, 0.8]) == 0.0
    assert auroc([0.5, 0.5], [0.5]) == 0.5
    # pairs: 0.9>0.5, 0.9>0.1, 0.5=0.5 (half), 0.5>0.1 -> 3.5 of 4
    assert auroc([0.9, 0.5], [0.5, 0.1]) == pytest.approx(0.875)
    # an unscored refusal (-inf) loses to everything; two +inf tie
    assert auroc([INF], [-INF, INF]) == pytest.approx(0.75)


def test_auroc_needs_both_classes() -> None:
    assert auroc([], [0.1]) is None
    assert auroc([0.1], []) is None


# -- refused at 5% false refusals ----------------------------------------------------------
def test_refusals_at_five_percent_false_by_hand() -> None:
    answerable = [float(v) for v in range(1, 21)]  # 20 questions: one may be refused
    # t = 2 refuses answerable 1 (1/20) and unanswerable 0.5, 1.5; t = 2.5 would refuse 2.
    assert refused_at_false_rate(answerable, [0.5, 1.5, 2.5, 30.0]) == pytest.approx(0.5)
    # An unanswerable score tied with the second answerable one cannot be refused
    # without refusing that one too ("below" is strict).
    assert refused_at_false_rate(answerable, [2.0]) == 0.0
    # 19 answerable: 5% is less than one question, so none may be refused.
    assert refused_at_false_rate(answerable[:19], [0.5, 1.0]) == pytest.approx(0.5)
    # Exactly 5% is allowed: t = 5 refuses answerable 0..4 (5 of 100) and 3.5, 4.5.
    hundred = [float(v) for v in range(100)]
    assert refused_at_false_rate(hundred, [3.5, 4.5, 5.5]) == pytest.approx(2 / 3)
    assert refused_at_false_rate(hundred, [3.5, 4.5, 5.5], 0.04) == pytest.approx(1 / 3)


def test_refusals_at_five_percent_false_edges() -> None:
    assert refused_at_false_rate([0.6, 0.9], [0.1, 0.2]) == 1.0  # fully separated
    assert refused_at_false_rate([0.1, 0.2], [0.6, 0.9]) == 0.0  # fully inverted
    assert refused_at_false_rate([0.5] * 3, [0.5] * 3) == 0.0  # all tied
    # an unscored refusal is refused at every threshold
    assert refused_at_false_rate([0.5, 0.6], [-INF, 0.9]) == 0.5
    assert refused_at_false_rate([0.5], [0.9], max_false_refusal=1.0) == 1.0
    assert refused_at_false_rate([], [0.1]) is None
    assert refused_at_false_rate([0.1], []) is None


def test_both_agree_with_brute_force_on_tied_random_scores() -> None:
    rng = random.Random(7)
    for _ in range(200):
        pos = [round(rng.random(), 1) for _ in range(rng.randint(1, 30))]
        neg = [round(rng.random(), 1) for _ in range(rng.randint(1, 30))]
        pairs = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in pos for n in neg)
        assert auroc(pos, neg) == pytest.approx(pairs / (len(pos) * len(neg)))
        cuts = [-1.0, *pos, *neg, 2.0]
        allowed = [t for t in cuts if sum(p < t for p in pos) <= 0.05 * len(pos) + 1e-9]
        best = max(sum(n < t for n in neg) for t in allowed) / len(neg)
        assert refused_at_false_rate(pos, neg) == pytest.approx(best)


def test_answerability_scores_keep_unscored_decisions_and_skip_errors() -> None:
    results = [result("a1", answerability=0.9), result("a2", refused=True),
               result("a3", error="too long"),
               result("u1", answerable=False, answerability=0.2),
               result("u2", answerable=False)]
    assert answerability_scores(results) == ([0.9, -INF], [0.2, INF])
    assert answerability_scores([result("a"), result("u", answerable=False)]) is None


# -- in the metrics object -----------------------------------------------------------------
def reader_run() -> list[QuestionResult]:
    return [
        # exact span
        result("a1", rank=1, gold_answer="Memorandum Budapest 1994",
               span="memorandum Budapest 1994.", answerability=0.9),
        # partial span: F1 0.8
        result("a2", rank=1, gold_answer="Memorandum Budapest 1994",
               span="the Budapest memorandum", answerability=0.6),
        # refused although it had a span: scores 0 (and a low score)
        result("a3", rank=1, gold_answer="Kanselir", span="Kanselir", refused=True,
               answerability=0.3),
        # no gold answer: not in the span metrics, but in the AUROC
        result("a4", rank=1, span="something", answerability=0.7),
        result("u1", answerable=False, refused=True, answerability=0.3),
        result("u2", answerable=False, refused=True, answerability=0.1),
    ]


def test_group_metrics_with_the_reader_on() -> None:
    m = group_metrics(reader_run())
    assert m["answer"]["span_em"] == pytest.approx(round(1 / 3, 4))
    assert m["answer"]["span_f1"] == pytest.approx(round((1 + 0.8 + 0) / 3, 4))
    # positives 0.9, 0.6, 0.3, 0.7 against 0.3, 0.1: 8 pairs, 7 won, one tie -> 7.5 / 8
    assert m["refusal"]["auroc"] == pytest.approx(round(7.5 / 8, 4))
    # 4 answerable: no false refusal allowed; t = 0.3 refuses 0.1 only
    assert m["refusal"]["at_5pct_false"] == 0.5
    # the existing refusal metrics are untouched
    assert m["refusal"]["accuracy"] == 1.0
    assert m["refusal"]["false_refusal_rate"] == 0.25


def test_group_metrics_with_the_reader_off_are_none_not_zero() -> None:
    off = [result("a1", rank=1, gold_answer="Budapest"),
           result("u1", answerable=False, refused=True)]
    m = group_metrics(off)
    assert m["answer"]["span_em"] is None and m["answer"]["span_f1"] is None
    assert m["refusal"]["auroc"] is None and m["refusal"]["at_5pct_false"] is None


def test_span_metrics_need_a_gold_answer_and_auroc_both_classes() -> None:
    no_gold = [result("a1", span="Budapest", answerability=0.9),
               result("u1", answerable=False, answerability=0.1)]
    m = group_metrics(no_gold)
    assert m["answer"]["span_em"] is None and m["answer"]["span_f1"] is None
    assert m["refusal"]["auroc"] == 1.0
    only_answerable = group_metrics([result("a1", gold_answer="Budapest", span="Budapest",
                                            answerability=0.9)])
    assert only_answerable["answer"]["span_em"] == 1.0
    assert only_answerable["refusal"]["auroc"] is None
    assert only_answerable["refusal"]["at_5pct_false"] is None


def test_a_missing_span_in_a_reader_run_scores_zero() -> None:
    m = group_metrics([result("a1", gold_answer="Budapest", span="Budapest", answerability=0.9),
                       result("a2", gold_answer="Kanselir", answerability=0.8)])
    assert (m["answer"]["span_em"], m["answer"]["span_f1"]) == (0.5, 0.5)


def test_span_em_is_a_failure_only_when_the_reader_ran() -> None:
    assert "answer.span_em" not in result("off", rank=1, gold_answer="Budapest").failed
    wrong = result("w", rank=1, gold_answer="Budapest", span="Kyiv", answerability=0.9)
    assert "answer.span_em" in wrong.failed
    right = result("r", rank=1, gold_answer="Budapest", span="budapest", answerability=0.9)
    assert "answer.span_em" not in right.failed
    unanswerable = result("u", answerable=False, refused=True, answerability=0.1)
    assert unanswerable.failed == ()


def test_the_new_metrics_are_broken_out_by_language_and_known_to_bars() -> None:
    results = [*reader_run(), result("i1", lang="id", rank=1, gold_answer="Kanselir",
                                     span="kanselir", answerability=0.95)]
    summary = summarize(results)
    assert summary["by_lang"]["id"]["answer"]["span_em"] == 1.0
    assert summary["by_lang"]["id"]["refusal"]["auroc"] is None  # no unanswerable in id
    assert summary["by_lang"]["en"]["refusal"]["auroc"] == pytest.approx(round(7.5 / 8, 4))
    for name in ("answer.span_em", "answer.span_f1", "refusal.auroc", "refusal.at_5pct_false"):
        assert HIGHER_IS_BETTER[name] is True


def test_results_round_trip_with_and_without_reader_fields() -> None:
    full = result("a1", gold_answer="Budapest", span="Budapest", answerability=0.25)
    assert QuestionResult.from_dict(full.to_dict()) == full
    old = full.to_dict()
    for name in ("span", "answerability", "gold_answer"):
        del old[name]  # a results.jsonl written before the reader
    read = QuestionResult.from_dict(old)
    assert (read.span, read.answerability, read.gold_answer) == (None, None, None)
