"""The runner over a real service (hash embedder): ranks, refusals, errors."""

from __future__ import annotations

from dataclasses import replace

import pytest

from assistant.service import TanyaService
from assistant.types import Answer, AnswerSpan
from eval.failures import failures
from eval.questionset import Question
from eval.runner import EvalRunner, score_answer

KYIV = Question(id="q1", question="Apa yang dituntut Kyiv soal Memorandum Budapest 1994?",
                lang="id", answerable=True, evidence=("Memorandum Budapest 1994",),
                answer_facts=("Budapest",))


def test_the_ranking_agrees_with_the_passages_the_answer_used(
        hash_service: TanyaService) -> None:
    questions = [KYIV.question, "Siapa Friedrich Merz?", "What does Moscow demand?"]
    for text in questions:
        answer = hash_service.ask(text, k=5)
        ranked = hash_service.retrieve(text, [], 10)
        assert len(ranked) == 10
        assert [p.chunk_id for p in ranked[:5]] == [p.chunk_id for p in answer.passages]


def test_a_scored_answer_records_rank_citations_and_facts(hash_service: TanyaService) -> None:
    result = EvalRunner(hash_service, k=5).run_one(KYIV)
    assert result.rank is not None and result.rank <= 10
    assert result.retrieved[result.rank - 1].relevant
    assert not any(r.relevant for r in result.retrieved[: result.rank - 1])
    assert result.latency_ms > 0
    assert not result.refused and result.cited
    # A citation is relevant exactly when the passage it cites is (same passage, same key).
    for c in result.cited:
        assert c.relevant == result.retrieved[c.passage_rank - 1].relevant
    assert set(result.facts_found) | set(result.facts_missing) == {"Budapest"}
    assert ("Budapest" in result.facts_found) == ("budapest" in result.answer.lower())


def test_a_refusal_never_counts_facts(hash_service: TanyaService) -> None:
    strict = TanyaService(replace(hash_service.settings, refusal_threshold=2.0),
                          embedder=hash_service.embedder)
    # "Budapest" is in the section names a refusal may point at; it must not count.
    question = replace(KYIV, answer_facts=("Budapest", "Ukraina"))
    result = EvalRunner(strict, k=5).run_one(question)
    assert result.refused
    assert result.facts_found == ()
    assert result.facts_missing == ("Budapest", "Ukraina")
    assert "refusal.false_refusal_rate" in result.failed


def test_a_question_the_service_rejects_becomes_an_error_result(
        hash_service: TanyaService) -> None:
    too_long = replace(KYIV, id="long", question="kata " * 1000)
    result = EvalRunner(hash_service).run_one(too_long)
    assert result.error and "limit" in result.error
    assert result.failed == ("error",)


@pytest.mark.parametrize(("span", "answerability"), [
    (AnswerSpan("Memorandum Budapest 1994", "d", 10, 34, 0.8), 0.91), (None, 0.12), (None, None)])
def test_the_reader_output_and_the_gold_answer_are_recorded(
        span: AnswerSpan | None, answerability: float | None) -> None:
    question = replace(KYIV, answer="Memorandum Budapest 1994")
    answer = Answer(question=KYIV.question, answer="Menurut artikel: ...", refused=span is None,
                    lang="id", answer_span=span, answerability=answerability)
    result = score_answer(question, answer, [], latency_ms=5.0)
    assert result.span == (span.text if span else None)
    assert result.answerability == answerability
    assert result.gold_answer == "Memorandum Budapest 1994"
    # a span failure only where the reader gave something to judge
    assert ("answer.span_em" in failures(result)) == (answerability is not None and span is None)


def test_an_error_result_keeps_the_gold_answer(hash_service: TanyaService) -> None:
    too_long = replace(KYIV, id="long", question="kata " * 1000, answer="Budapest")
    result = EvalRunner(hash_service).run_one(too_long)
    assert result.gold_answer == "Budapest" and result.span is None
