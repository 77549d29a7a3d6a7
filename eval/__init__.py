"""Evaluation: question sets, the runner, metrics, reports, run comparison, calibration.

Importing this package stays light; the runner and the service load when used.
"""

from eval.metrics import group_metrics, is_relevant
from eval.questionset import Question, QuestionSet, QuestionSetError, load_question_set
from eval.results import QuestionResult

__all__ = [
    "Question",
    "QuestionResult",
    "QuestionSet",
    "QuestionSetError",
    "group_metrics",
    "is_relevant",
    "load_question_set",
]
