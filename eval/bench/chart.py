"""The published charts: store query latency and build time against store size, and
resident memory over a soak.

Drawn with matplotlib (in the ``bench`` extra), imported here only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eval.bench.report import STORE_QUERY_P95_TARGET_MS


def write_chart(results: dict[str, Any], path: Path) -> Path:
    """Write a small PNG: query p50/p95 vs chunks, and build seconds vs chunks."""
    plt = _pyplot()
    points = results["scale"]["points"]
    chunks = [p["chunks"] for p in points]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4), dpi=100)
    left.plot(chunks, [p["query_ms"]["p50"] for p in points], "o-", label="p50")
    left.plot(chunks, [p["query_ms"]["p95"] for p in points], "s--", label="p95")
    left.axhline(STORE_QUERY_P95_TARGET_MS, color="tab:red", lw=1, ls=":", label="target p95")
    left.set(xscale="log", yscale="log", xlabel="chunks in store (synthetic vectors)",
             ylabel="ms", title=f"Store query, k={results['scale']['k']}")
    left.legend(fontsize=8)
    growth = results["build"]["growth"]
    right.plot([g["chunks"] for g in growth], [g["seconds"] for g in growth], "o-",
               color="tab:green")
    right.set(xscale="log", yscale="log", xlabel="chunks built (article copies, e5-small-q4)",
              ylabel="seconds", title="Index build time")
    for axis in (left, right):
        axis.grid(True, which="both", alpha=0.3)
    load = results["load_average"]["start"][0]
    fig.suptitle(f"tanya bench on {results['machine']['cores']} cores "
                 f"(load {load:.1f} at start)", fontsize=9)
    return _save(plt, fig, path)


def write_soak_chart(results: dict[str, Any], path: Path) -> Path:
    """Write a small PNG: resident memory over time for each soak run."""
    plt = _pyplot()
    fig, axis = plt.subplots(figsize=(7, 3.4), dpi=100)
    for mode, run in results["runs"].items():
        minutes = [t / 60 for t, _ in run["samples"]]
        axis.plot(minutes, [mb for _, mb in run["samples"]],
                  label=f"{mode} ({run['slope_mb_per_min']:+.2f} MB/min after warm-up)")
    axis.axvline(results["config"]["warm_up_minutes"], color="grey", lw=1, ls=":",
                 label="end of warm-up")
    axis.set(xlabel="minutes", ylabel="resident memory (MB)",
             title=f"tanya serve under load, {results['config']['clients']} urllib clients")
    axis.grid(True, alpha=0.3)
    axis.legend(fontsize=8)
    return _save(plt, fig, path)


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # no display: draw to files only
    import matplotlib.pyplot as plt

    return plt


def _save(plt: Any, fig: Any, path: Path) -> Path:
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
