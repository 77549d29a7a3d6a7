"""The HTML report: one self-contained page that opens offline.

All text is escaped; charts are inline SVG; a Content-Security-Policy forbids any
script or remote resource, so a hostile question in a set cannot run in a reader.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from eval.charts import grouped_bars, histogram
from eval.failures import FAILED_DEFINITION, failure_counts, failure_reasons
from eval.metrics import metric_value
from eval.results import QuestionResult
from eval.tables import LABELS, metric_notes, metric_rows, reader_note, scopes, tag_rows

_CHART_METRICS = ("retrieval.hit@1", "retrieval.hit@3", "retrieval.hit@5", "retrieval.mrr",
                  "answer.fact_recall", "answer.span_em", "answer.span_f1", "citations.hit",
                  "citations.precision", "refusal.accuracy", "refusal.false_refusal_rate",
                  "refusal.auroc", "refusal.at_5pct_false")
_STYLE = """
body{font-family:sans-serif;margin:2em;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;
text-align:left;vertical-align:top}th{background:#f3f3f3}td.num{text-align:right}
dl{display:grid;grid-template-columns:max-content auto;gap:2px 12px}dt{font-weight:bold}
.small{font-size:90%;color:#555}
"""


def html_report(summary: dict[str, Any], results: Sequence[QuestionResult]) -> str:
    """The whole page as a string."""
    qset = summary.get("question_set", {})
    title = f"Tanya evaluation: {qset.get('name', 'question set')}"
    body = [f"<h1>{escape(title)}</h1>", _facts(summary),
            "<h2>Metrics</h2>", _table(*metric_rows(summary)),
            *(f'<p class="small">{escape(note)}</p>' for note in metric_notes(summary)),
            _metric_chart(summary),
            "<h2>Latency</h2>", _latency_chart(summary, results)]
    headers, rows = tag_rows(summary)
    if rows:
        body += ["<h2>By tag</h2>", _table(headers, rows)]
    body += _failed(results)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "style-src 'unsafe-inline'\">\n"
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>\n<body>\n"
        + "\n".join(body) + "\n</body></html>\n")


def _facts(summary: dict[str, Any]) -> str:
    items = [(k, v) for k, v in summary.get("config", {}).items() if not isinstance(v, dict)]
    qset, corpus = summary.get("question_set", {}), summary.get("corpus", {})
    if qset:
        items.append(("question set", f"{qset.get('source')} (sha256 {qset.get('sha256')})"))
    if corpus:
        items.append(("corpus", f"sha256 {corpus.get('sha256')}"))
    items += [(k, summary[k]) for k in ("started_at", "seconds") if k in summary]
    rows = "".join(f"<dt>{escape(str(k))}</dt><dd>{escape(str(v))}</dd>" for k, v in items)
    return f"<dl>{rows}</dl>"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _metric_chart(summary: dict[str, Any]) -> str:
    series = {label: [metric_value(m, name) for name in _CHART_METRICS]
              for label, m in scopes(summary)}
    labels = [LABELS[name] for name in _CHART_METRICS]
    return grouped_bars(labels, series, "Metrics by language (0 to 1)")


def _latency_chart(summary: dict[str, Any], results: Sequence[QuestionResult]) -> str:
    values = [r.latency_ms for r in results if not r.error]
    markers = {"p50": metric_value(summary, "latency_ms.p50"),
               "p95": metric_value(summary, "latency_ms.p95")}
    return histogram(values, "Latency per question (service.ask, warm)", markers=markers)


def _failed(results: Sequence[QuestionResult]) -> list[str]:
    failed = [r for r in results if r.failed]
    out = [f"<h2>Failed questions ({len(failed)} of {len(results)})</h2>",
           f"<p class=\"small\">{escape(FAILED_DEFINITION)}</p>"]
    if not failed:
        return [*out, "<p>None.</p>"]
    counts = [[m, str(n), str(alone)] for m, n, alone in failure_counts(failed)]
    out.append(_table(["failed check", "questions", "only this check"], counts))
    rows = []
    for r in failed:
        rank = "" if not r.answerable else (str(r.rank) if r.rank else "&gt; 10")
        rows.append(
            f"<tr><td>{escape(r.id)}</td><td>{escape(r.lang)}</td><td>{_question(r)}</td>"
            f"<td>{_reasons(r)}</td><td class=\"num\">{rank}</td><td>{_answer(r)}</td></tr>")
    head = "".join(f"<th>{h}</th>" for h in ("id", "lang", "question", "failed: why", "rank",
                                             "answer"))
    return [*out, f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"]


def _question(result: QuestionResult) -> str:
    """The question after its earlier turns, if any: a follow-up cannot be judged alone."""
    turns = "".join(f"<div class=\"small\">{escape(t.role)}: {escape(t.content)}</div>"
                    for t in result.history)
    return f"{turns}{escape(result.question)}"


def _reasons(result: QuestionResult) -> str:
    return "<br>".join(f"<b>{escape(names)}</b>: {escape(reason)}" if reason
                       else f"<b>{escape(names)}</b>" for names, reason in failure_reasons(result))


def _answer(result: QuestionResult) -> str:
    refusal = f"refused: {result.refusal_reason}" if result.refusal_reason else ""
    notes = "; ".join(part for part in (refusal, reader_note(result)) if part)
    small = f'<div class="small">{escape(notes)}</div>' if notes else ""
    return escape(result.error or result.answer) + small
