"""Rows of metrics shared by the terminal, Markdown and HTML views of a run."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eval.metrics import HIGHER_IS_BETTER, has_reader_output, metric_value
from eval.results import QuestionResult

METRICS = tuple(HIGHER_IS_BETTER)
# Short column and axis labels that stay unambiguous without their group.
LABELS = {"retrieval.hit@1": "hit@1", "retrieval.hit@3": "hit@3", "retrieval.hit@5": "hit@5",
          "retrieval.mrr": "mrr", "answer.fact_recall": "fact recall",
          "answer.span_em": "span EM", "answer.span_f1": "span F1",
          "citations.hit": "citation hit", "citations.precision": "citation precision",
          "refusal.accuracy": "refusal accuracy",
          "refusal.false_refusal_rate": "false refusals", "refusal.auroc": "refusal AUROC",
          "refusal.at_5pct_false": "5%-false refusals", "latency_ms.p50": "p50 ms",
          "latency_ms.p95": "p95 ms"}
TAG_METRICS = ("retrieval.hit@3", "retrieval.mrr", "answer.fact_recall", "answer.span_f1",
               "citations.hit", "refusal.accuracy", "refusal.false_refusal_rate")


def fmt(value: float | None, metric: str = "") -> str:
    """A metric value for people: 3 decimals, latencies in ms with 1, '-' when absent."""
    if value is None:
        return "-"
    return f"{value:.1f}" if metric.startswith("latency_ms.") else f"{value:.3f}"


def scopes(summary: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """("all", overall metrics) then one entry per language."""
    return [("all", summary), *sorted(summary.get("by_lang", {}).items())]


def metric_rows(summary: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Headers and rows: one row per metric, one column per scope (all, each language);
    an "all" figure with a note (``metric_notes``) is marked with "*"."""
    columns = scopes(summary)
    noted = summary.get("notes", {})
    headers = ["metric", *(label for label, _ in columns)]
    rows = [["n", *(str(m.get("n", 0)) for _, m in columns)]]
    rows += [[name, *(fmt(metric_value(m, name), name)
                      + ("*" if label == "all" and name in noted else "")
                      for label, m in columns)]
             for name in METRICS]
    return headers, rows


def metric_notes(summary: dict[str, Any]) -> list[str]:
    """The footnotes of ``metric_rows``' marked figures, one line each."""
    return [f"* {name}, all: {note}" for name, note in summary.get("notes", {}).items()]


def tag_rows(summary: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Headers and rows: one row per tag with the main metrics."""
    headers = ["tag", "n", *(LABELS[name] for name in TAG_METRICS)]
    rows = [[tag, str(m.get("n", 0)), *(fmt(metric_value(m, name), name) for name in TAG_METRICS)]
            for tag, m in sorted(summary.get("by_tag", {}).items())]
    return headers, rows


def metric_text(summary: dict[str, Any]) -> str:
    """The metrics table for the terminal, then its footnotes."""
    return "\n".join([text_table(*metric_rows(summary)), *metric_notes(summary)])


def text_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain aligned table for the terminal."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
             for row in [headers, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def reader_note(result: QuestionResult) -> str:
    """The reader's span and score beside the gold answer; empty with the reader off."""
    if not has_reader_output(result):
        return ""
    parts = [f"span: {result.span if result.span is not None else '-'}"]
    if result.gold_answer:
        parts.append(f"gold answer: {result.gold_answer}")
    if result.answerability is not None:
        parts.append(f"answerability {result.answerability:.3f}")
    return "; ".join(parts)
