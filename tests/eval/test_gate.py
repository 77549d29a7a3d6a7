"""The regression gate: the shipped sets against the real default configuration.

Bars sit a little under what the assistant reached when they were set (see the README,
"Evaluation"); raise them when it improves, never lower them. ``ukraina`` is the set the
answerer was tuned and calibrated on; ``ukraina-heldout``, ``ukraina-fresh`` and
``offtopic`` were written blind to the system, so their bars guard against tuning that
only fits the first.
Latency is not gated here: on a shared 2-core machine it measures the neighbours;
`tanya eval run` reports it.
"""

from __future__ import annotations

import pytest

from assistant.service import TanyaService
from eval.bars import failed_bars, parse_bar
from eval.questionset import load_question_set
from eval.runner import EvalRunner
from eval.summary import summarize

# Measured 2026-11-27 (e5-small-q4, k=5, calibrated threshold and off-topic margin).
# ukraina: hit@1 0.803, hit@3 0.939, hit@5 0.970, mrr 0.869, fact_recall 0.769, citations
#   hit 0.856 / precision 0.616, refusal accuracy 0.947 (en 0.947, id 0.947), false
#   refusal rate 0.000; en hit@3 0.924 mrr 0.850, id hit@3 0.955 mrr 0.889.
# ukraina-heldout: hit@3 0.967, mrr 0.919, fact_recall 0.850, refusal 0.850, false 0.000.
# ukraina-fresh: hit@3 0.979, mrr 0.936, fact_recall 0.854, refusal 0.875, false 0.000.
# offtopic: refusal 0.975 (39 of 40).
# A refusal bar sits one question under the figure: ukraina has 19 unanswerable questions
# per language, ukraina-heldout 20 in all, ukraina-fresh 16, offtopic 40.
BARS = {
    "ukraina": (170, ["hit@1=0.78", "hit@3=0.92", "hit@5=0.95", "mrr=0.85",
                      "fact_recall=0.75", "citations.hit=0.83", "citations.precision=0.59",
                      "refusal.accuracy=0.92", "en:refusal.accuracy=0.89",
                      "id:refusal.accuracy=0.89", "en:hit@3=0.90", "en:mrr=0.83",
                      "id:hit@3=0.93", "id:mrr=0.87"]),
    "ukraina-heldout": (80, ["hit@3=0.94", "mrr=0.89", "fact_recall=0.82",
                             "refusal.accuracy=0.80"]),
    "ukraina-fresh": (64, ["hit@3=0.95", "mrr=0.91", "fact_recall=0.83",
                           "refusal.accuracy=0.81"]),
    "offtopic": (40, ["refusal.accuracy=0.95"]),
}
FAIL_OVER = ["false_refusal_rate=0.03"]


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.parametrize("name", sorted(BARS))
def test_the_shipped_sets_meet_their_bars(e5_service: TanyaService, name: str) -> None:
    size, under = BARS[name]
    summary = summarize(EvalRunner(e5_service, k=5).run(load_question_set(name).questions))
    bars = [parse_bar(b, under=True) for b in under]
    if summary["answerable"]:
        bars += [parse_bar(b, under=False) for b in FAIL_OVER]
    assert summary["n"] == size and summary["errors"] == 0
    assert failed_bars(summary, bars) == []
