"""``python -m eval.bench.fusions``: the served session against onnxruntime's defaults,
question by question, on one service."""

from __future__ import annotations

import pytest

from assistant.service import TanyaService
from eval.bench.fusions import compare
from eval.questionset import load_question_set


@pytest.mark.integration
def test_both_sessions_answer_the_same_questions_and_the_served_one_is_kept(
        e5_service: TanyaService) -> None:
    reader = e5_service.reader()
    before = reader._session
    questions = [q for q in load_question_set("ukraina").questions if q.answerable][:3]
    result = compare(e5_service, questions, calls=3)
    assert set(result) == {"served", "onnxruntime defaults"}
    for timing in result.values():
        assert timing["n"] == 3 and timing["p50"] > 0 and timing["mean"] > 0
    assert reader._session is before  # the shared service answers as served afterwards
