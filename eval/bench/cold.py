"""Cold ``tanya ask``: a fresh process each time, index already built.

Also runs one ``python -X importtime`` ask and sums import time by top-level package,
which is where a one-shot process spends most of its life.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from eval.bench.stats import summarize

_QUESTION = "What does Kyiv demand?"
_WATCHED = ("torch", "gradio", "chromadb", "sentence_transformers", "transformers")


def child_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a `tanya` child process (bench sections, tests): offline, no
    telemetry, and none of the caller's own TANYA_* settings (an API key or a Chroma URL
    would change what is measured), only ``extra`` and the shared model cache."""
    inherited = {k: v for k, v in os.environ.items()
                 if not k.startswith("TANYA_") or k == "TANYA_CACHE"}
    return {**inherited, "TANYA_HOME": str(home), "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False",
            "GRADIO_ANALYTICS_ENABLED": "False", **(extra or {})}


def ask_command(question: str = _QUESTION) -> list[str]:
    return [sys.executable, "-m", "assistant", "ask", question]


def run_cold(home: Path, repeats: int) -> dict[str, Any]:
    """Wall time and peak memory of ``repeats`` fresh ``tanya ask`` processes."""
    env = child_env(home)
    seconds, peaks = [], []
    for _ in range(repeats):
        elapsed, peak_mb = timed_child(ask_command(), env)
        seconds.append(elapsed)
        peaks.append(peak_mb)
    imports = import_profile(env)
    return {"command": "python -m assistant ask " + repr(_QUESTION),
            "seconds": summarize(seconds, 3), "peak_rss_mb": max(peaks), **imports}


def timed_child(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of one child process, which must succeed."""
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        # Popen + wait4 rather than subprocess.run: wait4 reports this child's peak RSS.
        proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            errors.seek(0)
            tail = errors.read().decode(errors="replace")[-2000:]
            raise RuntimeError(f"{' '.join(command[1:])} exited {proc.returncode}:\n{tail}")
    return elapsed, round(usage.ru_maxrss / 1024, 1)  # ru_maxrss is in KB on Linux


def import_profile(env: dict[str, str], top: int = 10) -> dict[str, Any]:
    """Import time of one cold ask, summed by top-level package (self time, ms)."""
    done = subprocess.run([sys.executable, "-X", "importtime", *ask_command()[1:]], env=env,
                          capture_output=True, text=True, check=True)
    by_package: Counter[str] = Counter()
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        head, _cumulative, name = line.split("|")
        by_package[name.strip().split(".")[0]] += int(head.split(":")[1])
    total_ms = sum(by_package.values()) / 1000
    return {"import_ms_total": round(total_ms, 1),
            "import_ms_by_package": {name: round(us / 1000, 1)
                                     for name, us in by_package.most_common(top)},
            "imported": {name: name in by_package for name in _WATCHED}}
