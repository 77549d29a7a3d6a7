"""Real processes and raw sockets for the reliability suite."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from eval.bench.cold import child_env
from tests.support.live_server import LiveServer


def tanya(home: Path, *args: str, env: dict[str, str] | None = None,
          timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run `tanya ARGS` to completion as a fresh process."""
    return subprocess.run([sys.executable, "-m", "assistant", *args], capture_output=True,
                          text=True, timeout=timeout, env=child_env(home, env))


def spawn_tanya(home: Path, *args: str, env: dict[str, str] | None = None
                ) -> subprocess.Popen[str]:
    """Start `tanya ARGS` in the background (stderr piped, for progress lines)."""
    return subprocess.Popen([sys.executable, "-m", "assistant", *args], text=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=child_env(home, env), start_new_session=True)


class UnreadyServer(LiveServer):
    """A `tanya serve` that counts as started once it answers /healthz (for tests that
    start it while its store is down)."""

    def _ready(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"tanya serve exited early:\n{self.output()}")
        return httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200


def raw_http(port: int, head: bytes, body_chunks: int = 0, chunk: bytes = b"",
             timeout: float = 10, tail: bytes = b"") -> tuple[int, bytes]:
    """Send ``head``, then up to ``body_chunks`` copies of ``chunk`` and ``tail`` as the
    server accepts them; stop sending as soon as it answers. Returns (status, response)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head)
        sock.setblocking(False)
        pending = [chunk] * body_chunks + ([tail] if tail else [])
        unsent = b""  # what a partial send left of the current piece
        deadline = time.monotonic() + timeout
        response = b""
        while time.monotonic() < deadline:
            try:
                data = sock.recv(65536)
                if not data:
                    break
                response += data
                if b"\r\n\r\n" in response and _complete(response):
                    break
                continue
            except BlockingIOError:
                pass
            except ConnectionResetError:
                break
            if not unsent and pending:
                unsent = pending.pop(0)
            if unsent:
                try:
                    unsent = unsent[sock.send(unsent):]
                except BlockingIOError:
                    time.sleep(0.01)
                except (BrokenPipeError, ConnectionResetError):
                    unsent, pending = b"", []
            else:
                time.sleep(0.01)
    status = int(response.split(b" ", 2)[1]) if response.startswith(b"HTTP/") else 0
    return status, response


def _complete(response: bytes) -> bool:
    head, _, body = response.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return False

