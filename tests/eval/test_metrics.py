"""Metric functions on hand-made cases whose answers are worked out by hand."""

from __future__ import annotations

import pytest

from eval.metrics import (
    first_relevant_rank,
    group_metrics,
    hit_rate,
    is_relevant,
    mean_reciprocal_rank,
    percentile,
    split_facts,
)
from eval.summary import summarize
from tests.eval.factories import cited, result


def test_relevance_ignores_case_and_whitespace() -> None:
    text = "Kyiv menuntut agar kewajiban baru\n tidak mengulangi nasib MEMORANDUM  Budapest 1994."
    assert is_relevant(text, ["memorandum budapest 1994"])
    assert is_relevant(text, ["nothing here", "Memorandum\tBudapest"])
    assert not is_relevant(text, ["Budapest 1995"])
    assert not is_relevant(text, [])


def test_first_relevant_rank_is_one_based_and_cut_at_ten() -> None:
    texts = ["a", "b", "the evidence", "the evidence again"]
    assert first_relevant_rank(texts, ["evidence"]) == 3
    assert first_relevant_rank(texts, ["absent"]) is None
    eleven = ["x"] * 10 + ["the evidence"]
    assert first_relevant_rank(eleven, ["evidence"]) is None
    assert first_relevant_rank(eleven, ["evidence"], cutoff=11) == 11


def test_hit_rate_and_mrr_on_known_ranks() -> None:
    ranks = [1, 2, 4, None, 12]
    assert hit_rate(ranks, 1) == pytest.approx(1 / 5)
    assert hit_rate(ranks, 3) == pytest.approx(2 / 5)
    assert hit_rate(ranks, 5) == pytest.approx(3 / 5)
    # rank 12 is outside the top 10, so it counts 0 like a miss.
    assert mean_reciprocal_rank(ranks) == pytest.approx((1 + 1 / 2 + 1 / 4) / 5)
    assert hit_rate([], 3) is None
    assert mean_reciprocal_rank([]) is None


def test_facts_are_matched_like_evidence() -> None:
    found, missing = split_facts("Menurut artikel: Pasal  Kelima NATO [1]", ["pasal kelima",
                                                                             "Kongres"])
    assert found == ["pasal kelima"]
    assert missing == ["Kongres"]


def test_percentile_interpolates() -> None:
    assert percentile([10.0, 20.0, 30.0, 40.0], 50) == pytest.approx(25.0)
    assert percentile([5.0], 95) == 5.0
    assert percentile(list(map(float, range(1, 101))), 95) == pytest.approx(95.05)
    assert percentile([], 50) is None


def test_group_metrics_on_a_hand_made_run() -> None:
    results = [
        # rank 1, both facts, cites the relevant passage and an irrelevant one
        result("a1", rank=1, facts_found=("x", "y"),
               cited=(cited(1, True, n=1), cited(3, False, n=2))),
        # rank 3, one fact of two, cites only an irrelevant passage
        result("a2", rank=3, facts_found=("x",), facts_missing=("y",),
               cited=(cited(2, False),)),
        # nothing relevant retrieved, refused (a false refusal)
        result("a3", rank=None, refused=True, facts_missing=("z",)),
        # the same passage cited twice counts once for precision
        result("a4", rank=2, facts_found=("w",), cited=(cited(2, True, n=1),
                                                         cited(2, True, n=2))),
        result("u1", answerable=False, refused=True),
        result("u2", answerable=False, refused=False, cited=(cited(1, False),)),
    ]
    m = group_metrics(results)
    assert (m["n"], m["answerable"], m["unanswerable"]) == (6, 4, 2)
    assert m["retrieval"]["hit@1"] == pytest.approx(1 / 4)
    assert m["retrieval"]["hit@3"] == pytest.approx(3 / 4)
    assert m["retrieval"]["mrr"] == pytest.approx(round((1 + 1 / 3 + 0 + 1 / 2) / 4, 4))
    assert m["answer"]["fact_recall"] == pytest.approx(round((1 + 0.5 + 0 + 1) / 4, 4))
    assert m["citations"]["hit"] == pytest.approx(2 / 4)
    # distinct cited passages of answerable questions: a1 {1: T, 3: F}, a2 {2: F}, a4 {2: T}
    assert m["citations"]["precision"] == pytest.approx(2 / 4)
    assert m["refusal"]["accuracy"] == pytest.approx(1 / 2)
    assert m["refusal"]["false_refusal_rate"] == pytest.approx(1 / 4)


def test_failures_say_why_a_question_counts_against() -> None:
    good = result("g", rank=1, facts_found=("x",), cited=(cited(1, True),))
    assert good.failed == ()
    late = result("l", rank=4, facts_found=("x",), facts_missing=("y",),
                  cited=(cited(1, True), cited(2, False, n=2)))
    assert late.failed == ("retrieval.hit@1", "retrieval.hit@3", "answer.fact_recall",
                           "citations.precision")
    refused = result("r", rank=None, refused=True, facts_missing=("x",))
    assert "refusal.false_refusal_rate" in refused.failed
    assert "citations.hit" in refused.failed
    assert result("u", answerable=False, refused=False).failed == ("refusal.accuracy",)
    assert result("v", answerable=False, refused=True).failed == ()
    assert result("e", error="too long").failed == ("error",)


def test_a_group_without_unanswerable_questions_has_no_refusal_accuracy() -> None:
    m = group_metrics([result("a", rank=1)])
    assert m["refusal"]["accuracy"] is None
    assert m["refusal"]["false_refusal_rate"] == 0.0


def test_summary_breaks_down_by_language_and_category_tags() -> None:
    results = [result("e1", lang="en", rank=1, tags=("people", "pair:p1")),
               result("i1", lang="id", rank=None, tags=("people", "pair:p1")),
               result("i2", lang="id", rank=2, tags=("numbers",))]
    summary = summarize(results, run={"config": {"k": 5}})
    assert summary["by_lang"]["en"]["retrieval"]["hit@1"] == 1.0
    assert summary["by_lang"]["id"]["retrieval"]["hit@3"] == 0.5
    assert set(summary["by_tag"]) == {"people", "numbers"}  # pair:* identifies, not groups
    assert summary["by_tag"]["people"]["n"] == 2
    assert summary["config"] == {"k": 5}
    assert summary["failed_questions"] == 3
