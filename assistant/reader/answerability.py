"""Answerability from several signals: a logistic model fitted by calibration.

The reader's span score knows whether a window holds an answer, not whether the corpus
is about the question at all; retrieval similarity and the background lead know the
second. ``tanya eval calibrate-reader`` fits the weights on development sets (no word
lists, nothing corpus-specific) and writes them beside the threshold in
``calibration.json``; an uncalibrated adapter uses the span score alone.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

# The signals the service measures for every question the reader reads.
SIGNALS = ("reader", "similarity", "background_lead")
# Ridge on the standardised weights: the sets are small, and a signal that helps only on
# one of them should not get a large weight.
L2 = 1.0


@dataclass(frozen=True)
class Combiner:
    """``logit = bias + sum(weight * (signal - mean) / scale)``."""

    names: tuple[str, ...]
    weights: tuple[float, ...]
    means: tuple[float, ...]
    scales: tuple[float, ...]
    bias: float

    def score(self, signals: Mapping[str, float]) -> float:
        """The combined logit; -inf when a signal it needs is missing or not finite."""
        total = self.bias
        for name, w, m, s in zip(self.names, self.weights, self.means, self.scales,
                                 strict=True):
            value = signals.get(name)
            if value is None or not math.isfinite(value):
                return -math.inf
            total += w * (value - m) / s
        return total

    def to_dict(self) -> dict[str, Any]:
        return {"names": list(self.names), "weights": [round(w, 6) for w in self.weights],
                "means": [round(m, 6) for m in self.means],
                "scales": [round(s, 6) for s in self.scales], "bias": round(self.bias, 6)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Combiner:
        return cls(tuple(data["names"]), tuple(map(float, data["weights"])),
                   tuple(map(float, data["means"])), tuple(map(float, data["scales"])),
                   float(data["bias"]))


def fit(rows: Sequence[Mapping[str, float]], labels: Sequence[bool],
        names: Sequence[str] = SIGNALS, l2: float = L2, iterations: int = 50) -> Combiner:
    """Logistic regression by Newton's method (deterministic: no sampling, no seed).

    Rows missing a signal or holding a non-finite one are left out of the fit.
    """
    usable = [(r, y) for r, y in zip(rows, labels, strict=True)
              if all(n in r and math.isfinite(r[n]) for n in names)]
    if not usable or len({y for _, y in usable}) < 2:
        raise ValueError("fitting answerability needs answerable and unanswerable questions")
    x = np.array([[r[n] for n in names] for r, _ in usable], dtype=np.float64)
    y = np.array([1.0 if label else 0.0 for _, label in usable])
    means = x.mean(axis=0)
    scales = x.std(axis=0)
    scales[scales == 0] = 1.0
    z = np.hstack([np.ones((len(x), 1)), (x - means) / scales])
    beta = np.zeros(z.shape[1])
    penalty = np.eye(z.shape[1]) * l2
    penalty[0, 0] = 0.0  # the bias is not shrunk
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(z @ beta)))
        gradient = z.T @ (p - y) + penalty @ beta
        hessian = (z * (p * (1 - p))[:, None]).T @ z + penalty
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if float(np.abs(step).max()) < 1e-10:
            break
    return Combiner(tuple(names), tuple(float(b) for b in beta[1:]),
                    tuple(float(m) for m in means), tuple(float(s) for s in scales),
                    float(beta[0]))
