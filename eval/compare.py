"""Compare two runs: metric deltas, configuration changes, questions that changed outcome."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.errors import ConfigError
from eval.metrics import HIGHER_IS_BETTER, metric_value
from eval.results import QuestionResult
from eval.tables import METRICS, fmt, text_table

# Keys every summary.json of `tanya eval run` holds: without them a file is something else
# (a calibration.json, say) and every delta would be "-".
_SUMMARY_KEYS = ("n", "by_lang", "config", "question_set")
# Timed in the eval's own process: the machine's load moves them as much as a change does
# (`tanya bench` measures speed), so they get no better/worse verdict.
_TIMING = ("latency_ms.p50", "latency_ms.p95")


@dataclass(frozen=True)
class Run:
    """A finished run read back from disk."""

    source: str
    summary: dict[str, Any]
    results: dict[str, QuestionResult] | None


def load_run(path: str | Path) -> Run:
    """A run from its directory (``--out``) or its summary.json; results.jsonl beside it
    is read too when present."""
    given = Path(path)
    summary_path = given / "summary.json" if given.is_dir() else given
    if not summary_path.is_file():
        raise ConfigError(f"{path}: no summary.json there; pass a run directory "
                          "(the --out of `tanya eval run`) or a summary.json")
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        results_path = summary_path.with_name("results.jsonl")
        results = None
        if results_path.is_file():
            rows = [QuestionResult.from_dict(json.loads(line))
                    for line in results_path.read_text(encoding="utf-8").splitlines()
                    if line.strip()]
            results = {r.id: r for r in rows}
    except (ValueError, TypeError, AttributeError) as exc:
        raise ConfigError(f"{path}: not a run written by `tanya eval run` ({exc})") from None
    missing = [key for key in _SUMMARY_KEYS if not isinstance(summary, dict) or key not in summary]
    if missing:
        raise ConfigError(f"{summary_path}: not a summary written by `tanya eval run` "
                          f"(no {', '.join(missing)})")
    return Run(str(path), summary, results)


def compare_runs(a: Run, b: Run) -> dict[str, Any]:
    """Everything that differs from run A to run B (deltas are B - A)."""
    langs = sorted(set(a.summary.get("by_lang", {})) & set(b.summary.get("by_lang", {})))
    metrics = []
    for name in METRICS:
        va, vb = metric_value(a.summary, name), metric_value(b.summary, name)
        by_lang = {lang: _delta(metric_value(a.summary["by_lang"][lang], name),
                                metric_value(b.summary["by_lang"][lang], name))
                   for lang in langs}
        metrics.append({"metric": name, "a": va, "b": vb, "delta": _delta(va, vb),
                        "verdict": _verdict(name, va, vb), "by_lang": by_lang})
    return {"a": a.source, "b": b.source, "notes": _notes(a, b),
            "config_changes": _config_changes(a.summary, b.summary),
            "metrics": metrics, **_changed_questions(a, b)}


def format_comparison(comparison: dict[str, Any]) -> str:
    """The comparison as text for the terminal."""
    lines = [f"A: {comparison['a']}", f"B: {comparison['b']}"]
    lines += [f"note: {note}" for note in comparison["notes"]]
    for key, (va, vb) in comparison["config_changes"].items():
        lines.append(f"config {key}: {va} -> {vb}")
    langs = sorted({lang for m in comparison["metrics"] for lang in m["by_lang"]})
    # The verdict: is B better or worse than A, by the metric's direction (a lower false
    # refusal rate is better); latency gets none ("timing", _TIMING).
    headers = ["metric", "A", "B", "B-A", "B vs A", *(f"B-A {lang}" for lang in langs)]
    rows = [[m["metric"], fmt(m["a"], m["metric"]), fmt(m["b"], m["metric"]),
             _signed(m["delta"], m["metric"]), m["verdict"],
             *(_signed(m["by_lang"][lang], m["metric"]) for lang in langs)]
            for m in comparison["metrics"]]
    lines += ["", text_table(headers, rows)]
    if any(m["verdict"] == "timing" for m in comparison["metrics"]):
        lines.append("timing: measured inside each eval run, so the machine's load moves "
                     "it as much as a change does; `tanya bench` measures speed")
    changed = comparison.get("changed")
    if changed is None:
        lines += ["", "(no results.jsonl in one of the runs: per-question changes not shown)"]
        return "\n".join(lines)
    lines += ["", f"questions that changed outcome: {len(changed)}"]
    for c in changed:
        parts = []
        if c["fixed"]:
            parts.append("now passes " + ", ".join(c["fixed"]))
        if c["broke"]:
            parts.append("now fails " + ", ".join(c["broke"]))
        lines.append(f"  {c['id']} [{c['lang']}] rank {_rank(c['rank'][0])} -> "
                     f"{_rank(c['rank'][1])}: {'; '.join(parts)}")
        lines.append(f"      {c['question']}")
    for key in ("only_a", "only_b"):
        if comparison[key]:
            lines.append(f"only in {key[-1].upper()}: {', '.join(comparison[key])}")
    return "\n".join(lines)


def _changed_questions(a: Run, b: Run) -> dict[str, Any]:
    if a.results is None or b.results is None:
        return {"changed": None, "only_a": [], "only_b": []}
    changed = []
    for qid, ra in a.results.items():
        rb = b.results.get(qid)
        if rb is None or set(ra.failed) == set(rb.failed):
            continue
        changed.append({
            "id": qid, "lang": rb.lang, "question": rb.question,
            "fixed": [m for m in ra.failed if m not in rb.failed],
            "broke": [m for m in rb.failed if m not in ra.failed],
            "rank": [ra.rank, rb.rank],
        })
    return {"changed": changed,
            "only_a": sorted(set(a.results) - set(b.results)),
            "only_b": sorted(set(b.results) - set(a.results))}


def _notes(a: Run, b: Run) -> list[str]:
    notes = []
    for key, what in (("question_set", "question sets"), ("corpus", "corpora")):
        sha_a = a.summary.get(key, {}).get("sha256")
        sha_b = b.summary.get(key, {}).get("sha256")
        if sha_a != sha_b:
            notes.append(f"the runs used different {what}; deltas compare unlike things")
    return notes


def _config_changes(a: dict[str, Any], b: dict[str, Any]) -> dict[str, list[Any]]:
    ca, cb = a.get("config", {}), b.get("config", {})
    return {key: [ca.get(key), cb.get(key)] for key in sorted(set(ca) | set(cb))
            if ca.get(key) != cb.get(key) and key != "index"}


def _delta(va: float | None, vb: float | None) -> float | None:
    return None if va is None or vb is None else round(vb - va, 4)


def _verdict(name: str, va: float | None, vb: float | None) -> str:
    if va is None or vb is None or va == vb:
        return ""
    if name in _TIMING:
        return "timing"
    return "better" if (vb > va) == HIGHER_IS_BETTER[name] else "worse"


def _signed(value: float | None, metric: str) -> str:
    if value is None:
        return "-"
    return ("+" if value > 0 else "") + fmt(value, metric)


def _rank(rank: int | None) -> str:
    return str(rank) if rank else "-"
