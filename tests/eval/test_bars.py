"""--fail-under / --fail-over: names, directions, language scopes."""

from __future__ import annotations

import pytest

from eval.bars import failed_bars, parse_bar
from eval.summary import summarize
from tests.eval.factories import cited, result

SUMMARY = summarize([
    result("e1", lang="en", rank=1, cited=(cited(1, True),)),
    result("e2", lang="en", rank=2, cited=(cited(1, True),)),
    result("i1", lang="id", rank=5, refused=True),
    result("u1", answerable=False, refused=True),
])  # hit@1 1/3, hit@3 2/3, false_refusal_rate 1/3, refusal accuracy 1


def test_short_and_full_names_resolve_to_the_same_metric() -> None:
    assert parse_bar("hit@3=0.5", under=True) == parse_bar("retrieval.hit@3=0.5", under=True)
    assert parse_bar("false_refusal_rate=0.05", under=False).metric == (
        "refusal.false_refusal_rate")
    assert parse_bar("id:mrr=0.9", under=True).lang == "id"


@pytest.mark.parametrize("text, under, message", [
    ("hit@3", True, "expected METRIC=VALUE"),
    ("hit@4=0.5", True, "unknown metric 'hit@4'"),
    ("mrr=high", True, "not a number"),
    ("false_refusal_rate=0.05", True, "lower is better.*use --fail-over"),
    ("p95=50", True, "use --fail-over"),
    ("hit@3=0.9", False, "higher is better.*use --fail-under"),
])
def test_bad_bars_are_refused_with_a_reason(text: str, under: bool, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_bar(text, under)


def test_bars_fail_on_the_right_side_and_name_the_metric() -> None:
    bars = [parse_bar("hit@3=0.6", True),            # 0.667: passes
            parse_bar("hit@1=0.5", True),            # 0.333: fails
            parse_bar("false_refusal_rate=0.4", False),  # 0.333: passes
            parse_bar("false_refusal_rate=0.3", False),  # 0.333: fails
            parse_bar("en:hit@3=1", True),           # en 1.0: passes
            parse_bar("id:hit@3=0.5", True),         # id 0.0: fails
            parse_bar("fr:hit@3=0.5", True),         # no French questions
            parse_bar("id:refusal.accuracy=0.5", True)]  # no unanswerable id question
    failures = failed_bars(SUMMARY, bars)
    assert failures == [
        "retrieval.hit@1 = 0.3333 is under the bar 0.5",
        "refusal.false_refusal_rate = 0.3333 is over the bar 0.3",
        "id:retrieval.hit@3 = 0 is under the bar 0.5",
        "fr:retrieval.hit@3: no questions in language 'fr'",
        "id:refusal.accuracy: not measured on this question set (nothing to score)",
    ]


def test_the_reader_metrics_take_bars_and_say_when_unmeasured() -> None:
    for short, full in (("span_em", "answer.span_em"), ("span_f1", "answer.span_f1"),
                        ("auroc", "refusal.auroc"), ("at_5pct_false", "refusal.at_5pct_false")):
        assert parse_bar(f"{short}=0.6", under=True).metric == full
    with pytest.raises(ValueError, match=r"higher is better.*use --fail-under"):
        parse_bar("span_f1=0.6", under=False)
    # SUMMARY has no reader output: a bar on it is unmeasured, never silently met.
    assert failed_bars(SUMMARY, [parse_bar("span_f1=0.6", under=True)]) == [
        "answer.span_f1: not measured on this question set (nothing to score)"]
    reader = summarize([result("a", gold_answer="Kanselir", span="Kanselir Jerman",
                               answerability=0.9),
                        result("u", answerable=False, answerability=0.1)])
    assert failed_bars(reader, [parse_bar("span_f1=0.6", under=True),
                                parse_bar("span_em=0.5", under=True),
                                parse_bar("auroc=1", under=True)]) == [
        "answer.span_em = 0 is under the bar 0.5"]
