"""A long build's progress, kept in the store beside the manifest so that every process
on that store can show it: ``tanya index status``, and the API's ``/api/status`` of any
serving worker, whichever process (a CLI build, a split-build worker, a document API
update) is doing the work.

    with recorded_progress(store, "build", bar) as progress:
        builder = IndexBuilder(store, embedder, progress=progress)
        ...
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the store (numpy, httpx) is not needed to format a bar
    from index.store import ChromaIndex

Progress = Callable[[int, int], None]
#: The record is rewritten at most this often (each write is a store round trip).
WRITE_EVERY_S = 1.0
#: A running build whose record is older than this has stopped reporting (one step of
#: embedding is seconds; a killed process leaves its record behind).
STALE_AFTER_S = 120.0


class StoreProgress:
    """A progress callback that records (done, total), rate and ETA in the store."""

    def __init__(self, store: ChromaIndex, operation: str,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock
        self.record: dict[str, Any] = {
            "operation": operation, "state": "running", "done": 0, "total": 0,
            "started_at": clock(), "updated_at": clock(), "rate_per_s": None, "eta_s": None,
            "pid": os.getpid(), "host": socket.gethostname(),
        }
        self._written = 0.0
        self._write()

    def __call__(self, done: int, total: int) -> None:
        now = self.clock()
        # The first report is always written: it is the one that says how much there is.
        first = self.record["total"] != total
        rate, eta = rate_and_eta(done, total, now - self.record["started_at"])
        self.record.update(done=done, total=total, updated_at=now,
                           rate_per_s=round(rate, 3) if rate else None,
                           eta_s=round(eta, 1) if eta is not None else None)
        if first or now - self._written >= WRITE_EVERY_S or done >= total:
            self._write()

    def end(self, state: str) -> None:
        """Record the final state: ``finished`` or ``failed``."""
        self.record.update(state=state, updated_at=self.clock(), eta_s=None)
        self._write()

    def _write(self) -> None:
        self._written = self.clock()
        self.store.write_progress(self.record["operation"],
                                  json.dumps(self.record, sort_keys=True))


def rate_and_eta(done: int, total: int, elapsed: float) -> tuple[float | None, float | None]:
    """Items per second so far and seconds left at that rate; (None, None) before the
    first item."""
    if done <= 0 or elapsed <= 0:
        return None, None
    rate = done / elapsed
    return rate, max(0, total - done) / rate


def tee(*callbacks: Progress | None) -> Progress:
    """One progress callback that calls each of ``callbacks`` given."""
    present = [c for c in callbacks if c is not None]

    def report(done: int, total: int) -> None:
        for callback in present:
            callback(done, total)
    return report


@contextmanager
def recorded_progress(store: ChromaIndex, operation: str,
                      shown: Progress | None = None) -> Iterator[Progress]:
    """A progress callback that updates ``shown`` (a bar) and the store's record; the
    record says ``finished`` or ``failed`` at the end. A store that cannot take the
    record does not stop the build: it fails in its own way, or goes on."""
    try:
        recorder: StoreProgress | None = StoreProgress(store, operation)
    except Exception:  # the build itself reports a store that is down
        recorder = None
    try:
        yield tee(shown, _quiet(recorder))
    except BaseException:
        _end(recorder, "failed")
        raise
    _end(recorder, "finished")


def _quiet(recorder: StoreProgress | None) -> Progress | None:
    if recorder is None:
        return None

    def report(done: int, total: int) -> None:
        with contextlib.suppress(Exception):  # progress is advice: never fail a build for it
            recorder(done, total)
    return report


def _end(recorder: StoreProgress | None, state: str) -> None:
    if recorder is not None:
        with contextlib.suppress(Exception):
            recorder.end(state)


def describe(record: dict[str, Any], now: float | None = None) -> dict[str, Any]:
    """The record as status shows it, with ``stale`` for a running build that stopped
    reporting (its process was killed)."""
    now = time.time() if now is None else now
    stale = record.get("state") == "running" and now - record["updated_at"] > STALE_AFTER_S
    return {**record, "stale": stale}
