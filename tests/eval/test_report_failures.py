"""Reports say why a question failed: escaped tables, reasons, counts, follow-up history."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

from assistant.types import Answer, Turn
from eval.failures import FAILED_DEFINITION, failure_counts, failure_reasons, failures
from eval.html_report import html_report
from eval.questionset import Question
from eval.report import markdown_report, write_reports
from eval.results import QuestionResult
from eval.runner import score_answer
from eval.summary import summarize
from tests.eval.factories import cited, result

PIPED = "Is it A | B,\nor C:\\ | D?"
HISTORY = (Turn("user", "Who is Fiona Hill?"),
           Turn("assistant", "Fiona Hill is a | former adviser [1]."))
FOLLOW_UP = "And which think tank does she work for?"


def cells(row: str) -> list[str]:
    """A GFM row's cells: split on pipes not escaped by a backslash (as GFM does)."""
    inner = row.strip()[1:-1].replace("\\\\", "\0")  # an escaped backslash escapes no pipe
    return [c.strip().replace("\0", "\\\\") for c in re.split(r"(?<!\\)\|", inner)]


def failed_row(text: str, qid: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(f"| {qid} "))


def test_a_pipe_in_an_id_or_question_is_escaped_the_gfm_way() -> None:
    results = [result("q|1", question=PIPED, rank=4)]
    text = markdown_report(summarize(results), results)
    row = failed_row(text, "q\\|1")
    assert "&#124;" not in text
    assert "A \\| B, or C:\\\\ \\| D?" in row  # newline folded, the backslash kept apart
    assert len(cells(row)) == 6  # id, lang, question, failed, rank, answer


def test_a_gfm_renderer_shows_the_pipes_as_text() -> None:
    import markdown_it  # installed with gradio
    results = [result("q|1", question=PIPED, rank=4)]
    page = markdown_it.MarkdownIt("commonmark").enable("table").render(
        markdown_report(summarize(results), results))
    row = next(tr for tr in page.split("<tr>") if "q|1" in tr)
    assert row.count("<td>") == 6
    assert "<td>Is it A | B, or C:\\ | D?</td>" in row


def test_report_md_says_why_each_question_failed() -> None:
    long_answer = "Budapest was not named. " * 20
    results = [result("f1", rank=2, answer=long_answer, facts_found=("1994",),
                      facts_missing=("Memorandum Budapest",),
                      cited=(cited(1, True), cited(2, False, n=2)))]
    assert results[0].failed == ("retrieval.hit@1", "answer.fact_recall",
                                 "citations.precision")
    row = failed_row(markdown_report(summarize(results), results), "f1")
    failed = cells(row)[3]
    assert "answer.fact\\_recall: missing \"Memorandum Budapest\"" in failed
    assert "citations.precision: \\[1\\] p1 relevant, \\[2\\] p2 not relevant" in failed
    assert "retrieval.hit@1: first relevant passage at rank 2" in failed
    assert long_answer.strip() in row  # whole, as in report.html


def test_checks_with_one_cause_share_one_reason() -> None:
    missed = result("m1", rank=None, cited=(cited(3, False),))
    assert failure_reasons(missed) == [
        ("retrieval.hit@1, retrieval.hit@3, retrieval.hit@5", "no relevant passage in the top 10"),
        ("citations.hit, citations.precision", "[1] p3 not relevant")]
    silent = result("m2", rank=1, answer="", refused=True, refusal_reason="low score",
                    facts_missing=("x",))
    assert dict(failure_reasons(silent)) == {
        "answer.fact_recall": 'missing "x"', "citations.hit": "nothing cited",
        "refusal.false_refusal_rate": "refused: low score"}


def precision_heavy() -> list[QuestionResult]:
    only_precision = [result(f"p{i}", rank=1, cited=(cited(1, True), cited(2, False, n=2)))
                      for i in range(3)]
    return [*only_precision,
            result("h1", rank=2, cited=(cited(1, True), cited(2, False, n=2))),
            result("r1", rank=1, cited=(cited(1, True),), facts_missing=("Budapest",)),
            result("ok", rank=1, cited=(cited(1, True),)),
            result("u1", answerable=False, refused=False)]


def test_the_failed_list_counts_each_failing_check() -> None:
    results = precision_heavy()
    assert failure_counts(results) == [("citations.precision", 4, 3),
                                       ("answer.fact_recall", 1, 1),
                                       ("refusal.accuracy", 1, 1),
                                       ("retrieval.hit@1", 1, 0)]
    summary = summarize(results)
    text = markdown_report(summary, results)
    failed_part = text.split("## Failed questions (6 of 7)")[1]
    assert "| failed check | questions | only this check |" in failed_part
    assert "| citations.precision | 4 | 3 |" in failed_part
    assert "| answer.fact\\_recall | 1 | 1 |" in failed_part
    page = html_report(summary, results)
    assert "<tr><td>citations.precision</td><td>4</td><td>3</td></tr>" in page


def test_the_definition_of_failed_names_every_check_and_is_in_both_reports() -> None:
    every_way = [result("e", error="too long"), result("u", answerable=False),
                 result("a", rank=None, refused=True, facts_missing=("x",), gold_answer="x",
                        answerability=0.1),
                 result("c", rank=1, cited=(cited(1, True), cited(2, False, n=2)))]
    checks = {m for r in every_way for m in failures(r)}
    assert len(checks) == 10
    assert all(name in FAILED_DEFINITION for name in checks)
    results = precision_heavy()
    text = markdown_report(summarize(results), results)
    how, failed = text.split("## Failed questions")
    assert "## How to read the failed questions" in how
    assert "citations.precision when any cited passage is not relevant" in how
    assert "answer.span\\_em" not in failed  # the list names only this run's checks
    page = html_report(summarize(results), results)
    assert "citations.precision when any cited passage is not relevant" in page


def test_history_round_trips_and_old_results_still_load() -> None:
    followed = result("f1", rank=1, history=HISTORY)
    data = json.loads(json.dumps(followed.to_dict()))  # as results.jsonl holds it
    assert data["history"] == [{"role": "user", "content": "Who is Fiona Hill?"},
                               {"role": "assistant",
                                "content": "Fiona Hill is a | former adviser [1]."}]
    assert QuestionResult.from_dict(data) == followed
    old = result("o1", rank=1).to_dict()
    del old["history"]  # a results.jsonl written before history was recorded
    assert QuestionResult.from_dict(old).history == ()


def test_the_runner_records_the_history_it_asked_with() -> None:
    question = Question(id="f1", question=FOLLOW_UP, lang="en", answerable=True,
                        evidence=("Brookings",), answer_facts=("Brookings",),
                        history=(("user", "Who is Fiona Hill?"), ("assistant", "An adviser.")))
    answer = Answer(question=FOLLOW_UP, answer="Brookings.", refused=False, lang="en")
    scored = score_answer(question, answer, [], latency_ms=5.0)
    assert scored.history == (Turn("user", "Who is Fiona Hill?"),
                              Turn("assistant", "An adviser."))


def test_reports_show_the_earlier_turns_beside_a_failed_follow_up(tmp_path: Path) -> None:
    results = [result("f1", question=FOLLOW_UP, rank=None, history=HISTORY)]
    write_reports(tmp_path, summarize(results), results)
    row = failed_row((tmp_path / "report.md").read_text(), "f1")
    assert len(cells(row)) == 6
    question = cells(row)[2]
    assert question == ("*earlier:* user: Who is Fiona Hill? · assistant: Fiona Hill is a "
                        "\\| former adviser \\[1\\]. · *now:* " + FOLLOW_UP)
    page = (tmp_path / "report.html").read_text()
    assert ('<div class="small">assistant: Fiona Hill is a | former adviser [1].</div>'
            + FOLLOW_UP) in page
    line = (tmp_path / "results.jsonl").read_text().splitlines()[0]
    assert json.loads(line)["history"][0] == {"role": "user", "content": "Who is Fiona Hill?"}


def test_a_long_earlier_turn_is_cut_in_markdown_only() -> None:
    long_turn = replace(HISTORY[1], content="word " * 100)
    results = [result("f1", question=FOLLOW_UP, rank=None, history=(long_turn,))]
    question = cells(failed_row(markdown_report(summarize(results), results), "f1"))[2]
    assert question.endswith("... · *now:* " + FOLLOW_UP) and len(question) < 300
    assert ("word " * 100).strip() in html_report(summarize(results), results)
