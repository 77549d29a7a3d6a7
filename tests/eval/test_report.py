"""Reports: every file written, hostile text escaped, the HTML self-contained."""

from __future__ import annotations

import json
import re
from html import escape
from pathlib import Path

import pytest

from assistant.errors import ConfigError
from eval.report import markdown_report, write_reports
from eval.results import QuestionResult
from eval.summary import summarize
from tests.eval.factories import cited, result

HOSTILE = '<script>alert("x")</script> | **bold** <img src=http://evil.example/x.png>'


def hostile_results() -> list[QuestionResult]:
    return [result("q1", question=HOSTILE, rank=3, answer=HOSTILE, cited=(cited(1, False),),
                   facts_missing=("<b>fact</b>",), latency_ms=12.0),
            result("q2", lang="id", rank=1, cited=(cited(1, True),), latency_ms=30.0),
            result("u1", answerable=False, refused=False, latency_ms=20.0)]


def test_write_reports_writes_four_files_that_read_back(tmp_path: Path) -> None:
    results = hostile_results()
    summary = summarize(results, run={"config": {"embedder": "hash:64"}})
    paths = write_reports(tmp_path / "out" / "run", summary, results)
    assert sorted(p.name for p in paths) == ["report.html", "report.md", "results.jsonl",
                                             "summary.json"]
    assert json.loads((tmp_path / "out/run/summary.json").read_text())["n"] == 3
    rows = (tmp_path / "out/run/results.jsonl").read_text().splitlines()
    assert [QuestionResult.from_dict(json.loads(r)) for r in rows] == results


def test_html_escapes_all_text_and_loads_nothing_remote() -> None:
    from eval.html_report import html_report

    results = hostile_results()
    page = html_report(summarize(results, run={"question_set": {"name": "<i>set</i>"}}),
                       results)
    assert "<script" not in page
    assert "<img" not in page
    assert "&lt;script&gt;" in page
    assert "&lt;i&gt;set&lt;/i&gt;" in page
    assert "&lt;b&gt;fact&lt;/b&gt;" in page
    assert not re.search(r"<[a-z][^>]*\s(src|href)\s*=", page)  # no tag loads anything
    assert "default-src 'none'" in page  # CSP: even a missed escape could not fetch or run
    assert page.count("<svg") == 2  # metrics by language, latency distribution


def test_markdown_neutralises_tables_and_html() -> None:
    results = hostile_results()
    text = markdown_report(summarize(results), results)
    row = next(line for line in text.splitlines() if line.startswith("| q1 "))
    assert row.count(" | ") == 5  # the question's own '|' did not add a column
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "\\*\\*bold\\*\\*" in text


def test_out_must_be_a_directory(tmp_path: Path) -> None:
    taken = tmp_path / "file"
    taken.write_text("x")
    with pytest.raises(ConfigError, match="not a directory"):
        write_reports(taken, summarize([]), [])


def test_reports_show_the_reader_metrics_and_spans_escaped() -> None:
    from eval.html_report import html_report
    from eval.tables import metric_rows, text_table

    results = [result("q1", rank=1, gold_answer="Budapest", span=HOSTILE, answerability=0.75),
               result("q2", lang="id", rank=1, cited=(cited(1, True),), gold_answer="Kanselir",
                      span="kanselir", answerability=0.5),
               result("u1", answerable=False, refused=True, answerability=0.25)]
    summary = summarize(results)
    table = text_table(*metric_rows(summary))
    rows = {line.split()[0]: line.split()[1:] for line in table.splitlines()[2:]}
    # columns: all, en, id
    assert rows["answer.span_em"] == ["0.500", "0.000", "1.000"]
    assert rows["refusal.auroc"] == ["1.000*", "1.000", "-"]  # pooled: a footnote
    assert rows["refusal.at_5pct_false"] == ["1.000*", "1.000", "-"]  # pooled: a footnote
    text = markdown_report(summary, results)
    row = next(line for line in text.splitlines() if line.startswith("| q1 "))
    assert "answer.span\\_em" in row
    assert "gold answer: Budapest; answerability 0.750" in row
    assert "<script>" not in text and row.count(" | ") == 5
    page = html_report(summary, results)
    assert "<script" not in page and "span: &lt;script&gt;" in page
    assert "gold answer: Budapest" in page


def test_reports_of_a_reader_off_run_show_no_span_notes() -> None:
    results = [result("q1", rank=4, gold_answer="Budapest")]
    text = markdown_report(summarize(results), results)
    assert "gold answer" not in text and "span:" not in text


def two_scales() -> list[QuestionResult]:
    """Each language separates its own scores, but English scores sit higher: no single
    cut separates both."""
    def scored(qid: str, lang: str, score: float, answerable: bool = True) -> QuestionResult:
        return result(qid, lang=lang, answerable=answerable, rank=1, answerability=score,
                      refused=not answerable)

    return [scored("e1", "en", 10.0), scored("e2", "en", 11.0),
            scored("eu", "en", 5.0, answerable=False),
            scored("i1", "id", 1.0), scored("i2", "id", 2.0),
            scored("iu", "id", 0.0, answerable=False)]


def test_the_pooled_refusal_figure_is_marked_and_explained_everywhere(tmp_path: Path) -> None:
    from eval.tables import metric_text

    results = two_scales()
    summary = summarize(results)
    # no false refusal allowed among 4 answerable: the pooled cut must sit at 1.0, below
    # English's unanswerable 5.0, though each language alone refuses all its unanswerable
    assert summary["refusal"]["at_5pct_false"] == 0.5
    assert [summary["by_lang"][lang]["refusal"]["at_5pct_false"] for lang in ("en", "id")] \
        == [1.0, 1.0]
    note = summary["notes"]["refusal.at_5pct_false"]
    assert "pooled" in note and "the service cuts per language" in note
    text = metric_text(summary)
    row = next(line for line in text.splitlines() if line.startswith("refusal.at_5pct_false"))
    assert row.split()[1:] == ["0.500*", "1.000", "1.000"]
    # The pooled AUROC, the same: 6 of 8 pairs ordered across languages, all within each.
    auroc = next(line for line in text.splitlines() if line.startswith("refusal.auroc"))
    assert auroc.split()[1:] == ["0.750*", "1.000", "1.000"]
    assert "ranks all languages' questions together" in summary["notes"]["refusal.auroc"]
    assert text.splitlines()[-1] == f"* refusal.at_5pct_false, all: {note}"
    write_reports(tmp_path, summary, results)
    assert json.loads((tmp_path / "summary.json").read_text())["notes"] == summary["notes"]
    markdown = (tmp_path / "report.md").read_text().split("## Failed")[0]
    assert "| refusal.at\\_5pct\\_false | 0.500\\* | 1.000 | 1.000 |" in markdown
    assert "\\* refusal.at\\_5pct\\_false, all: one cut over all languages" in markdown
    page = (tmp_path / "report.html").read_text()
    assert "<td>0.500*</td>" in page
    assert f'<p class="small">{escape(text.splitlines()[-1])}</p>' in page


def test_one_language_or_no_scores_needs_no_pooled_note() -> None:
    from eval.tables import metric_text

    english = summarize([r for r in two_scales() if r.lang == "en"])
    assert english["notes"] == {}
    assert "*" not in metric_text(english) and english["refusal"]["at_5pct_false"] == 1.0
    reader_off = summarize([result("q1", rank=1), result("q2", lang="id", rank=1),
                            result("u1", answerable=False, refused=True)])
    assert reader_off["notes"] == {} and "*" not in metric_text(reader_off)
