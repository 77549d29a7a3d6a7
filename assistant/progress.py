"""A small progress bar on stderr, shown only on a terminal and only for slow work."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from index.progress import rate_and_eta


class ProgressBar:
    """Call with (done, total). Stays silent for the first ``delay`` seconds.

    Once shown, each line gives the rate since the bar started and the time left at
    that rate, e.g. ``embedding [######------] 64/320 chunks, 1.9 chunks/s, ETA 2:15``.
    """

    def __init__(self, label: str, stream: TextIO | None = None, delay: float = 0.5,
                 unit: str = "chunks",
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.delay = delay
        self.unit = unit
        self.clock = clock
        self.started = clock()
        self.shown = False
        self._width = 0

    def __call__(self, done: int, total: int) -> None:
        elapsed = self.clock() - self.started
        if not self.stream.isatty() or elapsed < self.delay:
            return
        width = 30
        filled = int(width * done / total) if total else width
        bar = "#" * filled + "-" * (width - filled)
        line = f"{self.label} [{bar}] {done}/{total} {self.unit}"
        rate, eta = rate_and_eta(done, total, elapsed)
        if rate is not None and eta is not None:
            line += f", {_rate(rate)} {self.unit}/s"
            if total > done:
                line += f", ETA {_duration(eta)}"
        # Pad over what a longer previous line left behind (the ETA shrinks).
        self.stream.write("\r" + line.ljust(self._width))
        self.stream.flush()
        self._width = len(line)
        self.shown = True

    def close(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()


def _rate(per_second: float) -> str:
    return f"{per_second:.1f}" if per_second < 100 else f"{per_second:.0f}"


def _duration(seconds: float) -> str:
    """``0:42``, ``12:05``, ``3:07:41``."""
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def progress_line(record: dict[str, Any]) -> str:
    """A build's recorded progress (``index.progress``) in one line, e.g. ``update
    running: 64/320 chunks, 1.9 chunks/s, ETA 2:15 (pid 41 on web-2)``."""
    state = "stopped reporting" if record.get("stale") else record["state"]
    line = f"{record['operation']} {state}: {record['done']}/{record['total']} chunks"
    if record.get("rate_per_s"):
        line += f", {_rate(record['rate_per_s'])} chunks/s"
    if record["state"] == "running" and record.get("eta_s") is not None:
        line += f", ETA {_duration(record['eta_s'])}"
    return line + f" (pid {record['pid']} on {record['host']})"
