"""Reports of a run: summary.json, results.jsonl, report.md and report.html."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.errors import ConfigError
from eval.failures import FAILED_DEFINITION, failure_counts, failure_reasons
from eval.html_report import html_report
from eval.results import QuestionResult
from eval.tables import metric_notes, metric_rows, reader_note, tag_rows

MAX_FAILED_SHOWN = 300
# Earlier turns are context beside the question, cut so a long answer turn does not bury it.
_TURN_CHARS = 200
_READING_NOTE = (
    "Below: for each failed check, how many failed questions fail it and how many fail "
    "nothing else; then each failed question with its earlier turns (for a follow-up), "
    "each failed check with its reason (the rank of the first relevant passage, the missing "
    "facts, the citations marked relevant or not) and the whole answer.")


def write_reports(out: Path, summary: dict[str, Any], results: Sequence[QuestionResult]
                  ) -> list[Path]:
    """Write the four reports into ``out`` (created if needed); returns their paths."""
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "summary.json": json.dumps(summary, ensure_ascii=False, indent=2) + "\n",
        "results.jsonl": "".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n"
                                 for r in results),
        "report.md": markdown_report(summary, results),
        "report.html": html_report(summary, results),
    }
    paths = []
    for name, text in files.items():
        path = out / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def markdown_report(summary: dict[str, Any], results: Sequence[QuestionResult]) -> str:
    """The run as Markdown: configuration, metrics, per-tag metrics, failed questions."""
    qset = summary.get("question_set", {})
    lines = [f"# Evaluation: {_md(str(qset.get('name', 'question set')))}", ""]
    lines += [f"- {_md(key)}: `{_code(value)}`" for key, value in _run_facts(summary)]
    lines += ["", "## Metrics", "", *_md_table(*metric_rows(summary))]
    for note in metric_notes(summary):
        lines += ["", _md(note)]
    tag_headers, rows = tag_rows(summary)
    if rows:
        lines += ["", "## By tag", "", *_md_table(tag_headers, rows)]
    # The definition sits before the failed list's heading: it names every check, and the
    # list itself should name only the checks this run failed.
    lines += ["", "## How to read the failed questions", "", _md(FAILED_DEFINITION), "",
              _md(_READING_NOTE)]
    failed = [r for r in results if r.failed]
    lines += ["", f"## Failed questions ({len(failed)} of {len(results)})", ""]
    if not failed:
        lines.append("None.")
        return "\n".join(lines) + "\n"
    counts = [[m, str(n), str(alone)] for m, n, alone in failure_counts(failed)]
    lines += [*_md_table(["failed check", "questions", "only this check"], counts), ""]
    rows = [[_md(r.id), _md(r.lang), _question(r), _reasons(r), _md(_rank(r)), _md(_answer(r))]
            for r in failed[:MAX_FAILED_SHOWN]]
    lines += _md_table(["id", "lang", "question", "failed", "rank", "answer"], rows,
                       escaped=True)
    if len(failed) > MAX_FAILED_SHOWN:
        lines += ["", f"... {len(failed) - MAX_FAILED_SHOWN} more in results.jsonl"]
    return "\n".join(lines) + "\n"


def _run_facts(summary: dict[str, Any]) -> list[tuple[str, Any]]:
    """Configuration and versions, flattened for the header of a report."""
    facts: list[tuple[str, Any]] = []
    for key, value in summary.get("config", {}).items():
        if not isinstance(value, dict):
            facts.append((key, value))
    qset, corpus = summary.get("question_set", {}), summary.get("corpus", {})
    if qset:
        facts.append(("question set", f"{qset.get('source')} sha256 {qset.get('sha256')}"))
    if corpus:
        facts.append(("corpus", f"sha256 {corpus.get('sha256')}"))
    for key in ("started_at", "seconds"):
        if key in summary:
            facts.append((key, summary[key]))
    return facts


def _rank(result: QuestionResult) -> str:
    if not result.answerable:
        return ""
    return str(result.rank) if result.rank else "> 10"


def _answer(result: QuestionResult) -> str:
    # Whole, as in report.html: a cut answer cannot show why a fact counts as missing.
    text = result.error or result.answer
    if result.refusal_reason:
        text = f"(refused: {result.refusal_reason}) {text}"
    reader = reader_note(result)
    return f"{text} ({reader})" if reader else text


def _question(result: QuestionResult) -> str:
    """The question after its earlier turns, if any: a follow-up cannot be judged alone."""
    if not result.history:
        return _md(result.question)
    turns = " · ".join(f"{_md(t.role)}: {_md(_cut(t.content))}" for t in result.history)
    return f"*earlier:* {turns} · *now:* {_md(result.question)}"


def _reasons(result: QuestionResult) -> str:
    return "; ".join(f"{_md(names)}: {_md(reason)}" if reason else _md(names)
                     for names, reason in failure_reasons(result))


def _cut(text: str) -> str:
    return text if len(text) <= _TURN_CHARS else text[:_TURN_CHARS].rstrip() + "..."


def _md_table(headers: Sequence[str], rows: Sequence[Sequence[str]], escaped: bool = False
              ) -> list[str]:
    """A GFM table; ``escaped`` rows hold cells already passed through ``_md``."""
    cell = str if escaped else _md
    out = ["| " + " | ".join(_md(h) for h in headers) + " |",
           "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(cell(str(c)) for c in row) + " |" for row in rows]
    return out


def _md(text: str) -> str:
    """Neutralise Markdown and HTML in a table cell: questions and answers are data.

    Whitespace (newlines too) collapses to one space, so a cell stays on its row; ``|``
    becomes ``\\|``, the GFM table escape (an entity such as ``&#124;`` would be shown
    literally), and only after the backslashes are doubled, so that one stays single.
    """
    text = " ".join(text.split())
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        text = text.replace(char, entity)
    for char in "\\`*_[]#":
        text = text.replace(char, "\\" + char)
    return text.replace("|", "\\|")


def _code(value: Any) -> str:
    return str(value).replace("`", "'").replace("\n", " ")
