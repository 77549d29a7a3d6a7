"""Run a question set through a TanyaService and score each answer."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import cast

from assistant.errors import BadQuestionError
from assistant.service import TanyaService
from assistant.types import Answer, Passage, Role, Turn
from eval.failures import failures
from eval.metrics import RANK_CUTOFF, first_relevant_rank, is_relevant, split_facts
from eval.questionset import Question
from eval.results import Cited, QuestionResult, Retrieved

Progress = Callable[[int, int], None]
_WARM_UP = "warm-up question, not scored"


class EvalRunner:
    """Asks every question with the configuration under test and scores the answers.

    The answer uses ``k`` passages, as a user would get; the retrieval metrics look at
    the top ``max(k, 10)`` so that mrr's top-10 cutoff holds whatever ``k`` is.
    Latency is the wall time of ``service.ask`` only, measured warm.
    """

    def __init__(self, service: TanyaService, k: int | None = None, llm: str | None = None,
                 progress: Progress | None = None) -> None:
        self.service = service
        self.k = k if k is not None else service.settings.k
        self.llm = llm
        self.progress = progress

    def run(self, questions: Sequence[Question]) -> list[QuestionResult]:
        # One untimed question first, so model loading does not land in the latencies.
        self.service.ask(_WARM_UP, k=self.k, llm=self.llm)
        results = []
        for done, question in enumerate(questions, start=1):
            results.append(self.run_one(question))
            if self.progress:
                self.progress(done, len(questions))
        return results

    def run_one(self, question: Question) -> QuestionResult:
        history = question.history_dicts()
        started = time.perf_counter()
        try:
            answer = self.service.ask(question.question, history, k=self.k, llm=self.llm)
        except BadQuestionError as exc:
            return _scored(_base(question, error=str(exc)))
        latency = (time.perf_counter() - started) * 1000
        ranked = self.service.retrieve(question.question, history, max(self.k, RANK_CUTOFF))
        return _scored(score_answer(question, answer, ranked, latency))


def score_answer(question: Question, answer: Answer, ranked: Sequence[Passage],
                 latency_ms: float) -> QuestionResult:
    """Compare one answer (and the ranked retrieval behind it) with the question's key."""
    evidence = question.evidence
    retrieved = tuple(Retrieved(rank, p.paragraph, is_relevant(p.text, evidence),
                                round(p.score, 4))
                      for rank, p in enumerate(ranked, start=1))
    by_rank = {p.rank: p for p in answer.passages}
    cited = []
    for c in answer.citations:
        passage = by_rank.get(c.passage_rank)
        relevant = passage is not None and is_relevant(passage.text, evidence)
        cited.append(Cited(c.n, c.passage_rank, c.paragraph, c.quote, round(c.score, 4),
                           relevant))
    # A refusal may name the closest section; that must not count as stating a fact.
    found, missing = (([], list(question.answer_facts)) if answer.refused
                      else split_facts(answer.answer, question.answer_facts))
    # The reader's output; both None with the reader off (the metrics then say None).
    span, answerability = answer.answer_span, answer.answerability
    return replace(
        _base(question),
        rank=first_relevant_rank([p.text for p in ranked], evidence),
        retrieved=retrieved, answer=answer.answer, refused=answer.refused,
        refusal_reason=str(getattr(answer, "refusal_reason", "") or ""),
        cited=tuple(cited), facts_found=tuple(found), facts_missing=tuple(missing),
        latency_ms=latency_ms, span=span.text if span is not None else None,
        answerability=float(answerability) if answerability is not None else None,
        signals=dict(getattr(answer, "signals", {}) or {}))


def _base(question: Question, error: str | None = None) -> QuestionResult:
    return QuestionResult(id=question.id, lang=question.lang, question=question.question,
                          answerable=question.answerable, tags=question.tags,
                          facts_missing=question.answer_facts, error=error,
                          gold_answer=question.answer,
                          # roles were checked when the question set was loaded
                          history=tuple(Turn(cast(Role, role), content)
                                        for role, content in question.history))


def _scored(result: QuestionResult) -> QuestionResult:
    return replace(result, failed=failures(result))
