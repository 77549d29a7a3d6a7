"""The default answerer: picks the retrieved sentences that answer the question.

No LLM: sentences are scored with the same embedder (their vectors were computed at
index time), the best few are quoted verbatim with ``[n]`` markers, and every citation
carries its exact offsets. Passage text is only ever quoted, never interpreted, so an
instruction hidden in a document cannot change what this answerer does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.phrases import framing
from assistant.types import Citation
from index.store import StoredPassage, sentences_of


@dataclass(frozen=True)
class ScoredSentence:
    passage_rank: int
    passage: StoredPassage
    start: int
    end: int
    text: str
    paragraph: int
    similarity: float
    score: float


@dataclass(frozen=True)
class ExtractiveConfig:
    """How sentences are chosen. Tuned with ``tanya eval run`` (see README)."""

    sentence_weight: float = 0.6
    max_sentences: int = 2
    margin: float = 0.03


def score_sentences(
    question_vector: np.ndarray,
    passages: Sequence[StoredPassage],
    sentence_vectors: np.ndarray,
    config: ExtractiveConfig,
) -> list[ScoredSentence]:
    """Every sentence of the passages, scored, best first."""
    sims = sentence_vectors @ question_vector if len(sentence_vectors) else np.zeros(0)
    scored, row = [], 0
    for rank, passage in enumerate(passages, start=1):
        for sentence in sentences_of(passage):
            sim = float(sims[row])
            row += 1
            blended = config.sentence_weight * sim + (1 - config.sentence_weight) * passage.score
            scored.append(ScoredSentence(rank, passage, sentence.start, sentence.end,
                                         sentence.text, sentence.paragraph, sim, blended))
    return sorted(scored, key=lambda s: -s.score)


def choose_sentences(
    scored: Sequence[ScoredSentence], config: ExtractiveConfig
) -> list[ScoredSentence]:
    """The best sentence and close runners-up, in document order."""
    if not scored:
        return []
    best = scored[0].score
    chosen = [s for s in scored if s.score >= best - config.margin][: config.max_sentences]
    return sorted(chosen, key=lambda s: (s.passage.doc_id, s.start))


def lead_with_span(scored: Sequence[ScoredSentence], chosen: Sequence[ScoredSentence],
                   passage_rank: int, span_start: int, max_sentences: int
                   ) -> list[ScoredSentence]:
    """The sentence of passage ``passage_rank`` that holds the span starting at document
    offset ``span_start`` first, then the chosen ones (at most ``max_sentences``)."""
    holder = next((s for s in scored if s.passage_rank == passage_rank
                   and s.start <= span_start < s.end), None)
    if holder is None:
        return list(chosen)[:max_sentences]
    rest = [s for s in chosen if (s.passage.chunk_id, s.start) != (holder.passage.chunk_id,
                                                                   holder.start)]
    return [holder, *rest][:max_sentences]


def compose_answer(chosen: Sequence[ScoredSentence], lang: str, lead: str = ""
                   ) -> tuple[str, list[Citation]]:
    """Answer text with ``[n]`` markers and the matching citations; ``lead`` (the short
    answer) comes first."""
    citations = [
        Citation(n=i, doc_id=s.passage.doc_id, title=s.passage.title, section=s.passage.section,
                 paragraph=s.paragraph, quote=s.text, start=s.start, end=s.end,
                 score=s.score, passage_rank=s.passage_rank, url=s.passage.url,
                 published=s.passage.published, author=s.passage.author)
        for i, s in enumerate(chosen, start=1)
    ]
    body = " ".join(f"{c.quote} [{c.n}]" for c in citations)
    text = f"{framing(lang)} {body}"
    return (f"{lead} — {text}" if lead else text), citations
