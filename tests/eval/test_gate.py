"""The regression gate: the shipped sets against the real default configuration (the
reader on), and the article's sets against the sentence path (``--reader off``).

Bars sit a little under what the assistant reached when they were set (see the README,
"Evaluation" and "The reader"); raise them when it improves, never lower them.
``ukraina`` is the set the sentence path was tuned and calibrated on; ``ukraina-heldout``,
``ukraina-fresh`` and ``offtopic`` were written blind to the system, so their bars guard
against tuning that only fits the first. The reader was calibrated on ``archive-dev``,
``ukraina``, ``ukraina-heldout`` and ``offtopic``; ``ukraina-fresh`` was its blind set.
Latency is not gated here: on a shared 2-core machine it measures the neighbours;
`tanya eval run` reports it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.service import TanyaService
from assistant.settings import Settings
from eval.bars import failed_bars, parse_bar
from eval.questionset import load_question_set
from eval.runner import EvalRunner
from eval.summary import summarize
from index.documents import load_corpus
from index.embedders import E5SmallQ4Embedder

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


# The archive set gated in make test (archive-test is its blind twin; see the README).
ARCHIVE_SETS = ("archive-dev",)
# Measured 2026-12-07 with the reader on (the default; calibrated on archive-dev, ukraina,
# ukraina-heldout and offtopic, sessions without the SkipLayerNormalization fusion):
# archive-dev hit@3 0.992, mrr 0.963, fact_recall 0.931, span_f1 0.740, refusal en 0.703 /
# id 0.865, false refusal en 0.048 / id 0.048 (at its 5% limit; ukraina's cut sets both
# thresholds), AUROC 0.965; ukraina hit@3 0.932, mrr 0.869, fact_recall 0.754, refusal
# 0.684, false 0.045;
# ukraina-heldout hit@3 0.967, mrr 0.919, fact_recall 0.883, refusal 0.350, false 0.017;
# ukraina-fresh hit@3 0.979, mrr 0.936, fact_recall 0.812, refusal 0.188, false 0.042;
# offtopic 1.000. Bars set 2026-12-02 (fused sessions) and kept, never lowered. They left
# two or three questions of room then; now archive-dev's false refusal (6 of 124 per
# language: the calibration's own 5% cut) and ukraina-fresh's fact recall (39 of 48) sit
# one question from their bars. The int8 reader's scores differ a little between CPUs.
READER_BARS = {
    "archive-dev": (470, ["hit@3=0.98", "mrr=0.95", "fact_recall=0.92", "span_f1=0.72",
                          "citations.hit=0.93", "refusal.auroc=0.95",
                          "en:refusal.accuracy=0.57", "id:refusal.accuracy=0.77"]),
    "ukraina": (170, ["hit@3=0.92", "mrr=0.85", "fact_recall=0.73",
                      "refusal.accuracy=0.57"]),
    "ukraina-heldout": (80, ["hit@3=0.94", "mrr=0.89", "fact_recall=0.83",
                             "refusal.accuracy=0.10"]),
    "ukraina-fresh": (64, ["hit@3=0.95", "mrr=0.91", "fact_recall=0.81",
                           "refusal.accuracy=0.06"]),
    "offtopic": (40, ["refusal.accuracy=0.92"]),
}
READER_FAIL_OVER = ["false_refusal_rate=0.07"]
ARCHIVE_FAIL_OVER = ["en:false_refusal_rate=0.05", "id:false_refusal_rate=0.055"]


def _check(service: TanyaService, name: str, size: int, under: list[str],
           over: list[str]) -> None:
    summary = summarize(EvalRunner(service, k=5).run(load_question_set(name).questions))
    bars = [parse_bar(b, under=True) for b in under]
    if summary["answerable"]:
        bars += [parse_bar(b, under=False) for b in over]
    assert summary["n"] == size and summary["errors"] == 0
    assert failed_bars(summary, bars) == []


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.parametrize("name", sorted(BARS))
def test_the_sentence_path_meets_its_bars(e5_sentence_service: TanyaService,
                                          name: str) -> None:
    """``--reader off``: the bars this path met before the reader, unchanged."""
    size, under = BARS[name]
    _check(e5_sentence_service, name, size, under, FAIL_OVER)


@pytest.fixture(scope="module")
def archive_services(tmp_path_factory: pytest.TempPathFactory, e5: E5SmallQ4Embedder,
                     shared_cache: Path) -> dict[str, TanyaService]:
    """One default service per archive set, over the set's own corpus."""
    services = {}
    for name in ARCHIVE_SETS:
        corpus = load_question_set(name).corpus
        assert corpus is not None, f"{name} ships no corpus"
        documents, problems = load_corpus([corpus])
        assert problems == []
        home = tmp_path_factory.mktemp(f"{name}-home")
        service = TanyaService(Settings(home=home, cache=str(shared_cache), reader="on"),
                               embedder=e5)
        service.build(documents)
        services[name] = service
    return services


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.parametrize("name", sorted(READER_BARS))
def test_the_default_reader_meets_its_bars(e5_service: TanyaService,
                                           archive_services: dict[str, TanyaService],
                                           name: str) -> None:
    """The default (the reader on) over the article's sets and the archive sets."""
    size, under = READER_BARS[name]
    service = archive_services.get(name, e5_service)
    assert service.settings.reader_on
    _check(service, name, size, under,
           ARCHIVE_FAIL_OVER if name in ARCHIVE_SETS else READER_FAIL_OVER)
