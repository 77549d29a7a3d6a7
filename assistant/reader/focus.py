"""What the reader reads of a retrieved passage: its best sentence and its neighbours.

The reader's cost grows with the tokens it reads. A passage's best-scoring sentence
(retrieval already scored every sentence) with the sentences around it, up to a budget,
keeps the answer and its context in one short window instead of two long ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# Characters of a passage the reader reads: about 110 e5 tokens. The reader's graph is
# most of an answer's time (tanya bench --answers-only, its stage medians). 300 was tried
# (tanya eval run SET --reader on --reader-chars 300): about 15 ms less per answer, the
# same AUROC and refusal on archive-dev and ukraina, span F1 -0.013; recalibrated for it,
# the blind ukraina-fresh set's fact recall fell under its gate bar (0.792 < 0.81), so
# the default stays (README, "How much it reads").
FOCUS_CHARS = 440


@dataclass(frozen=True)
class Span:
    """A sentence in document offsets."""

    start: int
    end: int


def focus(sentences: Sequence[Span], best: int, budget: int) -> tuple[int, int]:
    """Document offsets of the best sentence grown by whole neighbours, the next one
    first, while the text stays within ``budget`` characters (``Settings.reader_chars``,
    default ``FOCUS_CHARS``; the best sentence alone may exceed it)."""
    first = last = best
    while True:
        grown = False
        for candidate in (last + 1, first - 1):
            if 0 <= candidate < len(sentences):
                lo, hi = min(first, candidate), max(last, candidate)
                if sentences[hi].end - sentences[lo].start <= budget:
                    first, last, grown = lo, hi, True
        if not grown:
            return sentences[first].start, sentences[last].end
