"""``tanya bench --soak``: resident memory of a live ``tanya serve`` under sustained load.

Two runs, each against a fresh server on 127.0.0.1: *answering* (rate limit off, every
request answered, half of them new wordings that miss the query cache) and *rejected*
(the default per-client rate limit, so nearly every request is a 429). The clients are
``urllib`` threads opening a new connection per request, as simple portal back-ends do.
Resident memory is read ten times per sampling interval, and each sample is the lowest
of its ten: a leak raises that floor, while what the answers in flight hold at one
instant (a model file's pages mapped while a question is embedded, a batch's buffers)
comes and goes, and moved single readings by ±10 MB with the reader. A leak shows as
the slope of a least-squares line through the samples after the warm-up (threads,
allocator arenas, the query cache and the tokeniser's word cache fill during it).
Every run is bounded in time and in requests.
"""

from __future__ import annotations

import http.client
import itertools
import json
import statistics
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from eval.bench.http_load import ServeProcess
from eval.questionset import Question

SLOPE_TARGET_MB_PER_MIN = 0.2
MODES = ("answering", "rejected")
# TANYA_* settings of each run's server: "answering" turns the rate limit off; "rejected"
# keeps the default, which all the clients share (they come from one address).
_SERVER_ENV = {"answering": {"TANYA_RATE_LIMIT_PER_MINUTE": "0"}, "rejected": {}}
_MIN_SAMPLES = 3
_READINGS_PER_SAMPLE = 10


@dataclass(frozen=True)
class SoakConfig:
    """Length and shape of each run; the default is the 20-minute soak."""

    minutes: float = 20.0
    warm_up_minutes: float = 5.0
    clients: int = 8
    sample_seconds: float = 10.0
    max_requests: int = 5_000_000  # a bound far above what 2 cores serve in 20 minutes

    def __post_init__(self) -> None:
        if self.clients < 1 or self.sample_seconds <= 0:
            raise ValueError("a soak needs at least one client and a positive interval")
        if self.minutes <= 0:
            raise ValueError("--minutes must be positive")
        if not 0 <= self.warm_up_minutes < self.minutes:
            raise ValueError("--minutes must be longer than the warm-up")
        if (self.minutes - self.warm_up_minutes) * 60 / self.sample_seconds < _MIN_SAMPLES:
            raise ValueError(f"--minutes too short: a slope needs {_MIN_SAMPLES} samples after "
                             f"the warm-up, {self.sample_seconds:g} s apart")


def run_soak(home: Path, questions: Sequence[Question], config: SoakConfig,
             say: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """Both runs, one after the other; each gets its own data directory and server."""
    runs = {}
    for mode in MODES:
        say(f"soak: {mode}, {config.clients} clients for {config.minutes:g} min...")
        runs[mode] = soak_once(home / mode, mode, questions, config)
        say(f"soak: {mode}: {runs[mode]['slope_mb_per_min']:+.3f} MB/min after the warm-up")
    return {"config": asdict(config), "target_slope_mb_per_min": SLOPE_TARGET_MB_PER_MIN,
            "runs": runs,
            "met": all(r["slope_mb_per_min"] <= SLOPE_TARGET_MB_PER_MIN for r in runs.values())}


def soak_once(home: Path, mode: str, questions: Sequence[Question],
              config: SoakConfig) -> dict[str, Any]:
    """One run: start a server, load it for ``config.minutes``, sample its memory."""
    home.mkdir(parents=True, exist_ok=True)
    server = ServeProcess(home, _SERVER_ENV[mode])
    startup = server.start()
    try:
        load = _Load(server.url, _bodies(questions, fresh_wordings=mode == "answering"),
                     config.max_requests)
        samples, peak = load.run(config.clients, config.minutes * 60,
                                 config.sample_seconds, server.rss_mb)
    except OSError:  # rss_mb: the process is gone
        raise server.failed(f"died during the {mode} soak") from None
    finally:
        server.stop()
    warm_up = [(t, mb) for t, mb in samples if t <= config.warm_up_minutes * 60]
    # The request budget may end a run early: then the slope is of what there is.
    after = [(t, mb) for t, mb in samples if t >= config.warm_up_minutes * 60] or samples
    return {"mode": mode, "startup_s": round(startup, 2), "requests": load.total,
            "statuses": dict(sorted(load.statuses.items())),
            "throughput_rps": round(load.total / max(samples[-1][0], 1e-9), 1),
            "rss_mb": {"first": samples[0][1], "after_warm_up": after[0][1],
                       "last": samples[-1][1], "max": peak},
            "slope_mb_per_min": round(slope_mb_per_min(after), 3),
            # What a run as short as the warm-up would call a slope: the caches filling.
            "warm_up_slope_mb_per_min": round(slope_mb_per_min(warm_up), 3),
            "samples": [[round(t, 1), mb] for t, mb in samples]}


def slope_mb_per_min(samples: Sequence[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB) samples, in MB per minute (0 for under 2)."""
    if len(samples) < 2:
        return 0.0
    seconds, mb = zip(*samples, strict=True)
    return statistics.linear_regression(seconds, mb).slope * 60


# New wordings add one of this many numbers to a question. A question and a number
# meet again only after (questions x this) requests (a prime, so any number of
# questions), so the caches keyed by the whole question keep missing; but the words
# asked stay a bounded set, as in real traffic. A new number per request would give the
# reader's tokeniser a new word each time, and its word cache (16,384 words) would fill
# through the whole run: bounded, but read as a leak (see README, "Memory under
# sustained load").
WORDING_NUMBERS = 997


def _bodies(questions: Sequence[Question], fresh_wordings: bool) -> Iterator[bytes]:
    """Request bodies, forever: the questions in order; with ``fresh_wordings`` every
    other one is a new wording, so the query cache keeps missing and evicting (with an
    even number of questions, the same half of them are reworded on every pass)."""
    for i, question in enumerate(itertools.cycle(questions)):
        text = (f"{question.question} ({i % WORDING_NUMBERS})" if fresh_wordings and i % 2
                else question.question)
        yield json.dumps({"question": text, "history": question.history_dicts()},
                         ensure_ascii=False).encode()


class _Load:
    """Client threads posting to ``/api/ask`` until the time or the request budget ends."""

    def __init__(self, url: str, bodies: Iterator[bytes], max_requests: int) -> None:
        self.url = f"{url}/api/ask"
        self.bodies = bodies
        self.max_requests = max_requests
        self.total = 0
        self.statuses: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def run(self, clients: int, seconds: float, every: float,
            rss_mb: Callable[[], float]) -> tuple[list[tuple[float, float]], float]:
        """``(seconds, MB)`` samples, each the floor of its interval's readings, and
        the highest reading."""
        threads = [threading.Thread(target=self._client, daemon=True) for _ in range(clients)]
        started = time.monotonic()
        first = rss_mb()
        samples, peak = [(0.0, first)], first
        for thread in threads:
            thread.start()
        try:
            readings: list[float] = []
            while not self._stop.wait(every / _READINGS_PER_SAMPLE):
                readings.append(rss_mb())
                if len(readings) < _READINGS_PER_SAMPLE:
                    continue
                elapsed = time.monotonic() - started
                samples.append((elapsed, min(readings)))
                peak = max(peak, *readings)
                readings = []
                if elapsed >= seconds:
                    break
        finally:
            self._stop.set()
            for thread in threads:
                thread.join(60)
        return samples, peak

    def _client(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                if self.total >= self.max_requests:
                    self._stop.set()
                    return
                self.total += 1
                body = next(self.bodies)
            status = self._post(body)
            with self._lock:
                self.statuses[status] += 1

    def _post(self, body: bytes) -> str:
        request = urllib.request.Request(self.url, data=body,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                response.read()
                return str(response.status)
        except urllib.error.HTTPError as error:
            error.read()
            return str(error.code)
        except (OSError, http.client.HTTPException) as error:  # counted, not fatal
            return type(error).__name__
