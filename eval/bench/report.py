"""Targets from DESIGN.md, checked against a run, and the Markdown table for the README."""

from __future__ import annotations

from typing import Any

TARGET_CHUNKS = 100_000
STORE_QUERY_P95_TARGET_MS = 100.0  # at TARGET_CHUNKS (DESIGN.md)
#: Adding articles to a large index costs about what those articles cost alone (issue 13).
INCREMENTAL_OVER_ALONE_TARGET = 1.5


def targets(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each DESIGN.md target with the measured value and whether it is met."""
    at_100k = _scale_point(results, TARGET_CHUNKS)
    measured = {
        "warm_answer_p50_ms": (results["warm"]["uncached"]["p50"], 60.0),
        "warm_answer_reader_off_p50_ms": (results["warm_reader_off"]["uncached"]["p50"], 25.0),
        "warm_archive_answer_p50_ms": (results["warm_archive"]["reader_on"]["p50"], 60.0),
        "cold_ask_p50_s": (results["cold_ask"]["seconds"]["p50"], 3.0),
        "serve_rss_mb": (results["memory"]["serve_rss_mb"], 400.0),
        "store_query_p95_ms_at_100k": (at_100k["query_ms"]["p95"] if at_100k else None,
                                       STORE_QUERY_P95_TARGET_MS),
        # The whole answer (reader off, the default) with 100k chunks in the store.
        "warm_answer_p95_ms_at_100k": (_answer_p95_at(results, TARGET_CHUNKS),
                                       STORE_QUERY_P95_TARGET_MS),
        "incremental_update_over_alone": (
            results["build"].get("incremental", {}).get("update_over_alone"),
            INCREMENTAL_OVER_ALONE_TARGET),
    }
    return {name: {"value": value, "limit": limit,
                   "met": None if value is None else value <= limit}
            for name, (value, limit) in measured.items()}


def ratios(results: dict[str, Any]) -> dict[str, float | None]:
    """Tanya divided by the baseline: above 1 means Tanya's number is larger."""
    base, ours = results["baseline"], results["tanya_quality"]
    pairs = {
        "hit@3": (ours["hit@3"], base["quality"]["hit@3"]),
        "mrr": (ours["mrr"], base["quality"]["mrr"]),
        "warm_p50_ms": (results["warm"]["uncached"]["p50"], base["warm_ms"]["p50"]),
        "warm_p95_ms": (results["warm"]["uncached"]["p95"], base["warm_ms"]["p95"]),
        "cold_s": (results["cold_ask"]["seconds"]["p50"],
                   base["cold"]["seconds"]["p50"] if base["cold"] else None),
        "cold_peak_rss_mb": (results["cold_ask"]["peak_rss_mb"],
                             base["cold"]["peak_rss_mb"] if base["cold"] else None),
        "article_build_s": (results["build"]["seconds"], base["build"]["seconds"]),
    }
    return {name: (round(a / b, 2) if a is not None and b else None)
            for name, (a, b) in pairs.items()}


def markdown(results: dict[str, Any]) -> str:
    """The results table, with the baseline beside Tanya where both were measured."""
    r, base, ratio = results, results["baseline"], results["ratios"]
    warm, cold, http = r["warm"]["uncached"], r["cold_ask"]["seconds"], r["http"]
    burst, build = http["concurrent"], r["build"]
    bcold = base["cold"]
    rows = [
        ("Retrieval hit@3 (answerable questions)", f"{r['tanya_quality']['hit@3']:.3f}",
         f"{base['quality']['hit@3']:.3f}", _x(ratio["hit@3"]), "≥ 0.95"),
        ("Retrieval MRR", f"{r['tanya_quality']['mrr']:.3f}", f"{base['quality']['mrr']:.3f}",
         _x(ratio["mrr"]), "≥ 0.90"),
        ("Warm answer p50 / p95, in-process (ms)", f"{warm['p50']:.1f} / {warm['p95']:.1f}",
         f"{base['warm_ms']['p50']:.1f} / {base['warm_ms']['p95']:.1f} (retrieval only)",
         _x(ratio["warm_p50_ms"]), "p50 ≤ 60 (reader on)"),
        ("Warm answer p50 / p95, reader off (ms)",
         f"{r['warm_reader_off']['uncached']['p50']:.1f} / "
         f"{r['warm_reader_off']['uncached']['p95']:.1f}", "–", "", "p50 ≤ 25"),
        (f"Warm answer p50 / p95, {r['warm_archive']['documents']}-document archive, "
         "reader on / off (ms)",
         f"{r['warm_archive']['reader_on']['p50']:.1f} / "
         f"{r['warm_archive']['reader_on']['p95']:.1f}; "
         f"{r['warm_archive']['reader_off']['p50']:.1f} / "
         f"{r['warm_archive']['reader_off']['p95']:.1f}", "–", "", "p50 ≤ 60"),
        ("Warm answer p50, repeated question (ms)", f"{r['warm']['cached']['p50']:.1f}", "–",
         "", ""),
        ("Cold `tanya ask`, fresh process p50 (s)", f"{cold['p50']:.2f}",
         f"{bcold['seconds']['p50']:.2f}" if bcold else "–", _x(ratio["cold_s"]), "≤ 3"),
        ("Cold process peak memory (MB)", f"{r['cold_ask']['peak_rss_mb']:.0f}",
         f"{bcold['peak_rss_mb']:.0f}" if bcold else "–", _x(ratio["cold_peak_rss_mb"]), ""),
        ("`/api/ask` alone p50 / p95 (ms)",
         f"{http['alone']['p50']:.1f} / {http['alone']['p95']:.1f}", "–", "", ""),
        (f"`/api/ask`, {burst['clients']} clients: req/s, p95 (ms)",
         f"{burst['throughput_rps']:.1f}, {burst['p95']:.0f}", "–", "", ""),
        ("Serving process resident memory (MB)", f"{r['memory']['serve_rss_mb']:.0f}", "–",
         "", "< 400"),
        (f"Index build, bundled article (s; {build['chunks']} chunks + {build['sentences']} "
         f"sentences vs {base['chunks']} chunks)", f"{build['seconds']:.1f}",
         f"{base['build']['seconds']:.1f}", _x(ratio["article_build_s"]), ""),
        ("Re-run build, unchanged input (ms)", f"{build['rerun_unchanged_s'] * 1000:.0f}", "–",
         "", ""),
    ]
    rows += [(f"Index build, {g['chunks']:,} chunks: s per 1k chunks (chunks/s)",
              f"{g['seconds_per_1k_chunks']:.0f} ({g['chunks_per_s']:.2f})", "–", "", "")
             for g in build["growth"][1:]]
    if build.get("incremental"):
        rows.append(_incremental_row(build["incremental"]))
    for point in r["scale"]["points"]:
        if point["chunks"] in (10_000, TARGET_CHUNKS) or r["config"]["quick"]:
            q = point["query_ms"]
            rows.append((f"Store query p50 / p95, {point['chunks']:,} chunks (ms)",
                         f"{q['p50']:.1f} / {q['p95']:.1f}", "–", "",
                         "p95 ≤ 100" if point["chunks"] == TARGET_CHUNKS else ""))
    scaled = r.get("answer_scale")
    if scaled:
        on, off = scaled["reader_on"], scaled["reader_off"]
        rows.append((f"Warm answer p50 / p95, {scaled['chunks']:,} chunks in the store, "
                     "reader off / on (ms)",
                     f"{off['p50']:.1f} / {off['p95']:.1f}; {on['p50']:.1f} / {on['p95']:.1f}",
                     "–", "", "p95 ≤ 100" if scaled["chunks"] >= TARGET_CHUNKS else ""))
    lines = ["| measure | Tanya | LangChain tutorial | Tanya ÷ tutorial | target |",
             "|---|---|---|---|---|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def growth_markdown(results: dict[str, Any]) -> str:
    """The build growth table of ``tanya bench --build-only``: one row per size."""
    build = results["build"]
    rows = ["| chunks (sentences) | article copies | seconds | chunks/s | s per 1k chunks "
            "| load, 1 min (start / end) |", "|---|---|---|---|---|---|"]
    for g in build["growth"]:
        load = g.get("load_1min")
        loads = f"{load['start']:.2f} / {load['end']:.2f}" if load else "–"
        rows.append(f"| {g['chunks']:,} ({g['sentences']:,}) | {g['copies']} | "
                    f"{g['seconds']:.1f} | {g['chunks_per_s']:.2f} | "
                    f"{g['seconds_per_1k_chunks']:.0f} | {loads} |")
    encoder = results.get("build_encoder")
    rows.append(f"\n{results['embedder']}, {build['workers']} embedding worker(s)"
                + (f", growth and incremental rows embedded by {encoder}" if encoder else "")
                + f"; re-run on unchanged input {build['rerun_unchanged_s'] * 1000:.0f} ms")
    if build.get("incremental"):
        measure, value, *_ = _incremental_row(build["incremental"])
        rows.append(f"\n{measure}: {value}")
    return "\n".join(rows)


def _incremental_row(inc: dict[str, Any]) -> tuple[str, str, str, str, str]:
    return (f"Add {inc['added_docs']} articles ({inc['added_chunks']} chunks) to a "
            f"{inc['base_docs']:,}-article index ({inc['base_chunks']:,} chunks) vs the "
            "same alone (s)",
            f"{inc['update_s']:.1f} vs {inc['alone_s']:.1f} "
            f"({_x(inc['update_over_alone'])})", "–", "",
            f"≤ {INCREMENTAL_OVER_ALONE_TARGET}×")


def _x(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}×"


def _answer_p95_at(results: dict[str, Any], chunks: int) -> float | None:
    scaled = results.get("answer_scale")
    if not scaled or scaled["chunks"] < chunks:
        return None
    return float(scaled["reader_off"]["p95"])


def _scale_point(results: dict[str, Any], chunks: int) -> dict[str, Any] | None:
    return next((p for p in results["scale"]["points"] if p["chunks"] == chunks), None)


def soak_markdown(results: dict[str, Any]) -> str:
    """The soak's table: per run, requests, statuses, memory and its slope after the
    warm-up; then the verdict."""
    rows = ["| run | requests | statuses | RSS first / after warm-up / last (MB) "
            "| slope during / after warm-up (MB/min) |", "|---|---|---|---|---|"]
    for mode, run in results["runs"].items():
        rss = run["rss_mb"]
        statuses = ", ".join(f"{k}: {v}" for k, v in run["statuses"].items())
        slopes = f"{run['warm_up_slope_mb_per_min']:+.3f} / {run['slope_mb_per_min']:+.3f}"
        rows.append(f"| {mode} | {run['requests']:,} | {statuses} | {rss['first']} / "
                    f"{rss['after_warm_up']} / {rss['last']} | {slopes} |")
    verdict = "met" if results["met"] else "MISSED"
    rows.append(f"\ntarget: slope <= {results['target_slope_mb_per_min']} MB/min in both runs: "
                f"{verdict}")
    return "\n".join(rows)


def answers_markdown(results: dict[str, Any]) -> str:
    """The ``--answers-only`` table: warm answer latency (reader on and off) and the cold
    ask, against their targets."""
    r = results
    rows = [("Warm answer p50 / p95, the article, reader on (ms)", r["warm"]["uncached"],
             "p50 ≤ 60"),
            ("Warm answer p50 / p95, the article, reader off (ms)",
             r["warm_reader_off"]["uncached"], "p50 ≤ 25"),
            (f"Warm answer p50 / p95, {r['warm_archive']['documents']}-document archive, "
             "reader on (ms)", r["warm_archive"]["reader_on"], "p50 ≤ 60"),
            (f"Warm answer p50 / p95, {r['warm_archive']['documents']}-document archive, "
             "reader off (ms)", r["warm_archive"]["reader_off"], ""),
            ("Cold `tanya ask` p50 / p95 (s)", r["cold_ask"]["seconds"], "≤ 3")]
    lines = ["| measure | Tanya | target |", "|---|---|---|"]
    lines += [f"| {name} | {m['p50']:.2f} / {m['p95']:.2f} | {target} |"
              if "(s)" in name else f"| {name} | {m['p50']:.1f} / {m['p95']:.1f} | {target} |"
              for name, m, target in rows]
    article = r["warm"].get("breakdown_p50") or {}
    archive = r["warm_archive"].get("reader_on_stages_p50") or {}  # older results lack it
    parts = [f"{where} {', '.join(f'{k} {v:.1f}' for k, v in stages.items())}"
             for where, stages in (("the article:", article), ("the archive:", archive))
             if stages]
    if parts:
        lines.append(f"\nReader-on stage medians (ms), {'; '.join(parts)}.")
    return "\n".join(lines) + "\n"
