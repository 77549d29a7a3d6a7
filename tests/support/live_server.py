"""A real ``tanya serve`` subprocess on 127.0.0.1 for integration and browser tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from eval.bench.cold import child_env
from eval.bench.http_load import stop_session
from eval.bench.stats import rss_mb
from tests.support.servers import free_port, wait_until

#: Set to "on" or "off" to run every live server whose test does not choose for itself
#: with or without the reader (the default is on): how the README's serving figures for
#: the sentence path are made (``TANYA_TEST_READER=off pytest tests/reliability/test_load.py``).
READER_OVERRIDE = "TANYA_TEST_READER"


class LiveServer:
    """``tanya serve`` with its own TANYA_HOME; ``url`` is ready once ``start`` returns."""

    def __init__(self, home: Path, env: dict[str, str] | None = None,
                 args: list[str] | None = None) -> None:
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = dict(env or {})
        if os.environ.get(READER_OVERRIDE):
            self.env.setdefault("TANYA_READER", os.environ[READER_OVERRIDE])
        self.args = args or []
        self.log = home / f"serve-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 120, attempts: int = 3) -> LiveServer:
        """Start and wait for ``/readyz``; on a port another process took between
        picking and binding it, start again on a new one."""
        self.home.mkdir(parents=True, exist_ok=True)
        for attempt in range(1, attempts + 1):
            try:
                self._start_once(timeout)
                return self
            except RuntimeError:
                if attempt == attempts or "address already in use" not in self.output():
                    raise
                self.port = free_port()
                self.url = f"http://127.0.0.1:{self.port}"
                self.log = self.home / f"serve-{self.port}.log"
        raise ValueError("attempts must be at least 1")

    def _start_once(self, timeout: float) -> None:
        # Only the TANYA_* settings a test passes: a developer's own (an API key, a
        # Chroma URL...) must not leak into the server under test.
        env = child_env(self.home, self.env)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "assistant", "serve", "--host", "127.0.0.1",
                 "--port", str(self.port), *self.args],
                stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        try:
            wait_until(self._ready, timeout, f"tanya serve on port {self.port}")
        except TimeoutError:
            self.stop()
            raise TimeoutError(f"tanya serve did not get ready; log:\n{self.output()}") from None

    def _ready(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"tanya serve exited early:\n{self.output()}")
        return httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def rss_mb(self) -> float:
        """Resident memory of the serving process (VmRSS), in MB."""
        assert self.proc is not None
        return rss_mb(self.proc.pid, children=False)

    def workers(self) -> list[int]:
        """Uvicorn worker processes (``--workers N``): spawned children, not helpers."""
        assert self.proc is not None
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        children = [int(pid) for pid in path.read_text().split()]
        return [pid for pid in children
                if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]

    def stop(self) -> None:
        if self.proc is not None:
            stop_session(self.proc, grace=15)
        self.proc = None
