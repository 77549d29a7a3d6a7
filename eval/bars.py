"""Regression bars: ``--fail-under METRIC=VALUE`` and ``--fail-over METRIC=VALUE``.

``--fail-under`` is for metrics where higher is better (the run fails when the metric is
below the bar); ``--fail-over`` for those where lower is better (false_refusal_rate,
latency). Using the wrong one is an error, so a bar can never be silently inverted.
A metric may be scoped to one language: ``id:hit@3=0.9``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from eval.metrics import HIGHER_IS_BETTER, metric_value

# Short names: the last part of each dotted name is unique.
_SHORT = {name.split(".", 1)[1]: name for name in HIGHER_IS_BETTER}


@dataclass(frozen=True)
class Bar:
    """One bar: fail when ``metric`` is under (or over) ``value``."""

    metric: str
    value: float
    under: bool
    lang: str | None = None

    @property
    def label(self) -> str:
        return f"{self.lang}:{self.metric}" if self.lang else self.metric

    def failure(self, summary: dict[str, Any]) -> str | None:
        """Why the summary misses this bar, or None when it passes."""
        scope = summary if self.lang is None else summary.get("by_lang", {}).get(self.lang)
        if scope is None:
            return f"{self.label}: no questions in language {self.lang!r}"
        actual = metric_value(scope, self.metric)
        if actual is None:
            return f"{self.label}: not measured on this question set (nothing to score)"
        if self.under and actual < self.value:
            return f"{self.label} = {actual:g} is under the bar {self.value:g}"
        if not self.under and actual > self.value:
            return f"{self.label} = {actual:g} is over the bar {self.value:g}"
        return None


def parse_bar(text: str, under: bool) -> Bar:
    """Parse ``[LANG:]METRIC=VALUE``; ValueError says what is wrong."""
    name, sep, raw = text.partition("=")
    if not sep:
        raise ValueError(f"{text!r}: expected METRIC=VALUE, e.g. hit@3=0.9")
    lang, _, metric = name.strip().rpartition(":")
    full = resolve_metric(metric)
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{text!r}: {raw!r} is not a number") from None
    if HIGHER_IS_BETTER[full] != under:
        flag, other = ("--fail-under", "--fail-over") if under else ("--fail-over",
                                                                      "--fail-under")
        better = "higher" if HIGHER_IS_BETTER[full] else "lower"
        raise ValueError(f"{full}: {better} is better, so {flag} would be inverted; "
                         f"use {other} {text}")
    return Bar(full, value, under, lang or None)


def resolve_metric(name: str) -> str:
    """``hit@3`` or ``retrieval.hit@3`` -> ``retrieval.hit@3``."""
    name = name.strip()
    if name in HIGHER_IS_BETTER:
        return name
    if name in _SHORT:
        return _SHORT[name]
    known = ", ".join(HIGHER_IS_BETTER)
    raise ValueError(f"unknown metric {name!r}; known: {known} (or the part after the dot)")


def failed_bars(summary: dict[str, Any], bars: Iterable[Bar]) -> list[str]:
    """One message per bar the summary misses."""
    return [msg for bar in bars if (msg := bar.failure(summary)) is not None]
