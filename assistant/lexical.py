"""A lexical signal: BM25 over passages, fused with dense ranks by reciprocal rank.

Fusion only re-orders; it never removes a passage the dense retriever found.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

_TOKEN = re.compile(r"\w+", re.UNICODE)
RRF_K = 60


def tokenize(text: str) -> list[str]:
    return [t.lower() for t in _TOKEN.findall(text)]


class BM25:
    """Okapi BM25 over a fixed list of texts (k1=1.5, b=0.75)."""

    def __init__(self, texts: Sequence[str], k1: float = 1.5, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self._docs = [Counter(tokenize(t)) for t in texts]
        self._lengths = [sum(d.values()) for d in self._docs]
        self._avg = (sum(self._lengths) / len(self._lengths)) if self._docs else 0.0
        df: Counter[str] = Counter()
        for doc in self._docs:
            df.update(doc.keys())
        n = len(self._docs)
        self._idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}

    def scores(self, query: str) -> list[float]:
        terms = [t for t in set(tokenize(query)) if t in self._idf]
        out = []
        for doc, length in zip(self._docs, self._lengths, strict=True):
            score = 0.0
            for term in terms:
                tf = doc.get(term, 0)
                if tf:
                    norm = tf + self.k1 * (1 - self.b + self.b * length / (self._avg or 1))
                    score += self._idf[term] * tf * (self.k1 + 1) / norm
            out.append(score)
        return out


def rrf_fuse(dense_ids: Sequence[str], lexical_ids: Sequence[str]) -> list[str]:
    """Reciprocal-rank fusion of two rankings into one (best first). Callers keep only
    dense candidates, so lexical hits can lift a passage but never add or filter one."""
    scores: dict[str, float] = {}
    for ranking in (dense_ids, lexical_ids):
        for rank, cid in enumerate(ranking, start=1):
            scores[cid] = scores.get(cid, 0.0) + 1.0 / (RRF_K + rank)
    return sorted(scores, key=lambda cid: -scores[cid])
