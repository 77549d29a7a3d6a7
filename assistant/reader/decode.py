"""From start/end logits to the best answer span and an answerability score.

As in SQuAD 2.0 readers: a span scores ``start[i] + end[j]`` (``i <= j``, both inside
the window's text, at most ``MAX_ANSWER_TOKENS`` long); "no answer" scores
``start[0] + end[0]``. A window's answerability is best span minus no answer; a
question's is the best over its windows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_ANSWER_TOKENS = 24


@dataclass(frozen=True)
class SpanScore:
    first: int
    last: int
    score: float  # best span minus no answer


def best_span(start: np.ndarray, end: np.ndarray, mask: np.ndarray,
              max_tokens: int = MAX_ANSWER_TOKENS) -> SpanScore | None:
    """The best span of one window (``mask``: where a span may start or end)."""
    allowed = mask.copy()
    allowed[0] = False
    n = int(allowed.sum())
    if n == 0:
        return None
    positions = np.flatnonzero(allowed)
    s, e = start[positions], end[positions]
    # Pair scores over the allowed positions; spans are short, so the band is small.
    pair = s[:, None] + e[None, :]
    offsets = positions[None, :] - positions[:, None]
    pair = np.where((offsets >= 0) & (offsets < max_tokens), pair, -np.inf)
    flat = int(np.argmax(pair))
    i, j = divmod(flat, len(positions))
    null = float(start[0] + end[0])
    return SpanScore(int(positions[i]), int(positions[j]), float(pair[i, j]) - null)
