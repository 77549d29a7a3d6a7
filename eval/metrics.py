"""The metrics of DESIGN.md as pure functions over question results.

A metric that has nothing to measure (hit@3 on a group with no answerable question,
refusal accuracy with no unanswerable one, span scores or AUROC with the reader off) is
``None``, never a misleading 0.
"""

from __future__ import annotations

import math
import re
import string
import unicodedata
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from eval.results import QuestionResult

RANK_CUTOFF = 10  # mrr counts a first relevant passage only within the top 10
HIT_KS = (1, 3, 5)
# refusal.at_5pct_false: the answerability threshold may refuse at most this share of the
# answerable questions.
MAX_FALSE_REFUSAL = 0.05

# Every reported metric and whether a higher value is better (for bars and compare).
HIGHER_IS_BETTER: dict[str, bool] = {
    **{f"retrieval.hit@{k}": True for k in HIT_KS},
    "retrieval.mrr": True,
    "answer.fact_recall": True,
    "answer.span_em": True,
    "answer.span_f1": True,
    "citations.hit": True,
    "citations.precision": True,
    "refusal.accuracy": True,
    "refusal.false_refusal_rate": False,
    "refusal.auroc": True,
    "refusal.at_5pct_false": True,
    "latency_ms.p50": False,
    "latency_ms.p95": False,
}
_SPACE = re.compile(r"\s+")
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_ASCII_PUNCTUATION = frozenset(string.punctuation)


def normalize(text: str) -> str:
    """Case-folded, NFC, whitespace collapsed: how evidence and facts are matched."""
    return _SPACE.sub(" ", unicodedata.normalize("NFC", text)).strip().casefold()


def is_relevant(text: str, evidence: Iterable[str]) -> bool:
    """A passage is relevant if it contains any evidence phrase."""
    haystack = normalize(text)
    return any(normalize(phrase) in haystack for phrase in evidence)


def first_relevant_rank(texts: Sequence[str], evidence: Sequence[str],
                        cutoff: int = RANK_CUTOFF) -> int | None:
    """1-based rank of the first relevant text among the first ``cutoff``, else None."""
    for rank, text in enumerate(texts[:cutoff], start=1):
        if is_relevant(text, evidence):
            return rank
    return None


def split_facts(answer: str, facts: Iterable[str]) -> tuple[list[str], list[str]]:
    """(found, missing) answer facts in the answer text."""
    haystack = normalize(answer)
    found: list[str] = []
    missing: list[str] = []
    for fact in facts:
        (found if normalize(fact) in haystack else missing).append(fact)
    return found, missing


def share(flags: Iterable[bool]) -> float | None:
    """Fraction of true flags; None when there are none."""
    values = list(flags)
    return sum(values) / len(values) if values else None


def hit_rate(ranks: Sequence[int | None], k: int) -> float | None:
    """Share of questions whose first relevant passage ranks within the top ``k``."""
    return share(rank is not None and rank <= k for rank in ranks)


def mean_reciprocal_rank(ranks: Sequence[int | None], cutoff: int = RANK_CUTOFF
                         ) -> float | None:
    """Mean of 1/rank, counting 0 for no relevant passage within ``cutoff``."""
    if not ranks:
        return None
    return sum(1 / r for r in ranks if r is not None and r <= cutoff) / len(ranks)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100), linearly interpolated as numpy does by default."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def normalize_answer(text: str) -> str:
    """SQuAD-style answer normalisation: lowercase, punctuation removed (ASCII and any
    Unicode punctuation, e.g. curly quotes), English articles removed, whitespace
    collapsed."""
    text = unicodedata.normalize("NFC", text).lower()
    text = "".join(c for c in text if c not in _ASCII_PUNCTUATION
                   and not unicodedata.category(c).startswith("P"))
    return " ".join(_ARTICLES.sub(" ", text).split())


def span_exact_match(prediction: str | None, gold: str) -> float:
    """1.0 when the normalised span equals the normalised gold answer, else 0.0 (also
    for no span at all)."""
    if prediction is None:
        return 0.0
    return float(normalize_answer(prediction) == normalize_answer(gold))


def span_f1(prediction: str | None, gold: str) -> float:
    """SQuAD token F1 of the normalised span against the normalised gold answer (0.0 for
    no span). Two answers with no words left after normalisation match (1.0)."""
    if prediction is None:
        return 0.0
    predicted, expected = normalize_answer(prediction).split(), normalize_answer(gold).split()
    if not predicted or not expected:
        return float(predicted == expected)
    same = sum((Counter(predicted) & Counter(expected)).values())
    if not same:
        return 0.0
    precision, recall = same / len(predicted), same / len(expected)
    return 2 * precision * recall / (precision + recall)


def auroc(positives: Sequence[float], negatives: Sequence[float]) -> float | None:
    """Area under the ROC curve: the chance that a positive scores above a negative, ties
    counting half (Mann-Whitney U / (P * N)); None when either side is empty."""
    if not positives or not negatives:
        return None
    ordered = sorted(negatives)
    wins = 0.0
    for score in positives:
        below = bisect_left(ordered, score)
        wins += below + (bisect_right(ordered, score) - below) / 2
    return wins / (len(positives) * len(negatives))


def refused_at_false_rate(answerable: Sequence[float], unanswerable: Sequence[float],
                          max_false_refusal: float = MAX_FALSE_REFUSAL) -> float | None:
    """The largest share of unanswerable scores strictly below a threshold t whose share
    of answerable scores below t is at most ``max_false_refusal``; None when either side
    is empty. Only the thresholds at a score (and below all scores, refusing nothing)
    need trying: between two scores the shares do not change."""
    if not answerable or not unanswerable:
        return None
    ordered_a, ordered_u = sorted(answerable), sorted(unanswerable)
    # Counted in questions, so 0.05 of 20 is exactly one (no floating-point edge).
    allowed = math.floor(max_false_refusal * len(ordered_a) + 1e-9)
    if len(ordered_a) <= allowed:
        return 1.0  # a threshold above every score is allowed
    best = 0
    for t in sorted({*ordered_a, *ordered_u}):
        if bisect_left(ordered_a, t) > allowed:
            break  # the answerable share below t only grows with t
        best = bisect_left(ordered_u, t)  # and so does the unanswerable share
    return best / len(ordered_u)


def has_reader_output(result: QuestionResult) -> bool:
    """Whether the run produced reader output for this question (a span or a score)."""
    return result.span is not None or result.answerability is not None


def span_scores(result: QuestionResult) -> tuple[float, float] | None:
    """(exact match, F1) of an answerable question with a gold answer; a refusal or a
    missing span scores 0. None when the question has nothing to score."""
    if not result.answerable or not result.gold_answer:
        return None
    span = None if result.refused else result.span
    return span_exact_match(span, result.gold_answer), span_f1(span, result.gold_answer)


def answerability_scores(results: Sequence[QuestionResult]
                         ) -> tuple[list[float], list[float]] | None:
    """(answerable, unanswerable) answerability scores; None when no result has one.

    A question the service decided without scoring it (refused before reading: -inf;
    answered: +inf) keeps that decision at every threshold; errors are left out.
    """
    usable = [r for r in results if not r.error]
    if not any(_score(r) is not None for r in usable):
        return None

    def value(r: QuestionResult) -> float:
        score = _score(r)
        if score is not None:
            return score
        return -math.inf if r.refused else math.inf

    return ([value(r) for r in usable if r.answerable],
            [value(r) for r in usable if not r.answerable])


def _score(result: QuestionResult) -> float | None:
    score = result.answerability
    return None if score is None or math.isnan(score) else float(score)


def group_metrics(results: Sequence[QuestionResult]) -> dict[str, Any]:
    """The DESIGN.md metrics object for one group of results."""
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    ranks = [r.rank for r in answerable]
    latencies = [r.latency_ms for r in results if not r.error]
    span_em, span_f1_ = _span_metrics(results)
    separation = answerability_scores(results)
    return {
        "n": len(results),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "errors": sum(1 for r in results if r.error),
        "retrieval": {**{f"hit@{k}": _round(hit_rate(ranks, k)) for k in HIT_KS},
                      "mrr": _round(mean_reciprocal_rank(ranks))},
        "answer": {"fact_recall": _round(_fact_recall(answerable)),
                   "span_em": _round(span_em), "span_f1": _round(span_f1_)},
        "citations": {"hit": _round(share(any(c.relevant for c in r.cited) for r in answerable)),
                      "precision": _round(_citation_precision(answerable))},
        "refusal": {"accuracy": _round(share(r.refused for r in unanswerable)),
                    "false_refusal_rate": _round(share(r.refused for r in answerable)),
                    "auroc": _round(auroc(*separation) if separation else None),
                    "at_5pct_false": _round(refused_at_false_rate(*separation)
                                            if separation else None)},
        "latency_ms": {"p50": _round(percentile(latencies, 50), 2),
                       "p95": _round(percentile(latencies, 95), 2)},
    }


def metric_value(metrics: dict[str, Any], name: str) -> float | None:
    """Look up a dotted metric name (``retrieval.hit@3``) in a metrics object."""
    group, _, leaf = name.partition(".")
    value = metrics.get(group, {}).get(leaf)
    return None if value is None else float(value)


def _fact_recall(answerable: Sequence[QuestionResult]) -> float | None:
    # Averaged per question, so a question with many facts does not outweigh the rest.
    per_question = [len(r.facts_found) / (len(r.facts_found) + len(r.facts_missing))
                    for r in answerable if r.facts_found or r.facts_missing]
    return sum(per_question) / len(per_question) if per_question else None


def _span_metrics(results: Sequence[QuestionResult]) -> tuple[float | None, float | None]:
    # With the reader off no result has a span or a score: nothing was measured, not 0.
    if not any(has_reader_output(r) for r in results):
        return None, None
    scored = [s for r in results if (s := span_scores(r)) is not None]
    if not scored:
        return None, None
    return (sum(em for em, _ in scored) / len(scored),
            sum(f1 for _, f1 in scored) / len(scored))


def _citation_precision(answerable: Sequence[QuestionResult]) -> float | None:
    # A passage cited twice in one answer counts once: precision is over cited passages.
    cited = [{c.passage_rank: c.relevant for c in r.cited} for r in answerable]
    total = sum(len(passages) for passages in cited)
    relevant = sum(sum(passages.values()) for passages in cited)
    return relevant / total if total else None


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)
