"""POST a JSON body to an LLM server and read its reply line by line, within a deadline.

httpx's timeouts bound each connect and each read, not a whole reply: a server that
trickles a byte every few seconds would never time out. So the request runs in a worker
thread that hands chunks over a queue, and the reader waits on the queue only until the
deadline. Every failure becomes an ``LLMError`` that names the endpoint and what to do.
"""

from __future__ import annotations

import codecs
import ipaddress
import json
import queue
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

import httpx

from assistant.errors import LLMError, LLMTimeoutError

_MAX_REPLY_BYTES = 4 * 1024 * 1024
_MAX_ERROR_BYTES = 4096
_Item = tuple[str, Any]  # (kind, value) handed from the worker to the reader
_CLIENTS: dict[bool, httpx.Client] = {}  # keyed by "the server is on this machine"
_CLIENTS_LOCK = threading.Lock()


@dataclass(frozen=True)
class Endpoint:
    """Where an answerer posts, and how to tell a user to fix it when it fails."""

    url: str
    model: str
    location_var: str  # the variable that says where the server is, e.g. OPENAI_BASE_URL
    not_found_advice: str
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    key_var: str = ""  # the variable holding the API key, if the server takes one
    secret: str = field(default="", repr=False)  # never shown in a message

    @property
    def shown_url(self) -> str:
        """The URL without credentials or query, fit for messages and logs."""
        url = httpx.URL(self.url)
        return str(url.copy_with(username=None, password=None, query=None, fragment=None))

    def error(self, problem: str, advice: str, timed_out: bool = False) -> LLMError:
        message = f"LLM server at {self.shown_url} {problem}; {advice}"
        if self.secret:
            message = message.replace(self.secret, "***")
        return LLMTimeoutError(message) if timed_out else LLMError(message)

    def malformed(self, what: str) -> LLMError:
        return self.error(
            f"sent a reply Tanya cannot read ({what})",
            f"check that {self.location_var} points at the right kind of server",
        )


class Reply:
    """The body of a successful response, read as it arrives."""

    def __init__(self, content_type: str, receive: Callable[[], _Item]) -> None:
        self.content_type = content_type
        self._receive = receive

    def lines(self) -> Iterator[str]:
        """Decoded lines without their line ends, as soon as each is complete."""
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        pending: list[str] = []
        while True:
            kind, value = self._receive()
            if kind == "end":
                break
            parts = decoder.decode(value).split("\n")
            if len(parts) > 1:
                yield ("".join(pending) + parts[0]).rstrip("\r")
                yield from (p.rstrip("\r") for p in parts[1:-1])
                pending = []
            pending.append(parts[-1])
        rest = "".join(pending) + decoder.decode(b"", final=True)
        if rest.strip():
            yield rest.rstrip("\r")

    def text(self) -> str:
        return "\n".join(self.lines())


@contextmanager
def post_streaming(endpoint: Endpoint, body: dict[str, Any], timeout: float) -> Iterator[Reply]:
    """POST ``body`` as JSON; the reply's lines all arrive within ``timeout`` seconds of
    the call, or reading them raises ``LLMError``."""
    deadline = time.monotonic() + timeout
    inbox: queue.Queue[_Item] = queue.Queue()
    stop = threading.Event()
    worker = threading.Thread(
        target=_fetch,
        args=(endpoint, body, timeout, deadline, inbox, stop),
        name="tanya-llm",
        daemon=True,
    )
    worker.start()

    def receive() -> _Item:
        return _receive(inbox, deadline, endpoint, timeout)

    try:
        _, content_type = receive()
        yield Reply(content_type, receive)
    finally:
        stop.set()  # the worker stops at its next chunk, or when its read times out


def _fetch(
    endpoint: Endpoint,
    body: dict[str, Any],
    timeout: float,
    deadline: float,
    inbox: queue.Queue[_Item],
    stop: threading.Event,
) -> None:
    """The worker: do the request, hand over what arrives, never raise."""
    try:
        client = _client(local=_is_loopback(endpoint.url))
        with client.stream(
            "POST",
            endpoint.url,
            json=body,
            headers=dict(endpoint.headers),
            timeout=httpx.Timeout(timeout),
        ) as response:
            if not response.is_success:
                inbox.put(("status", (response.status_code, _read_some(response))))
                return
            inbox.put(("head", response.headers.get("content-type", "")))
            received = 0
            for chunk in response.iter_bytes():
                if stop.is_set():
                    return
                if time.monotonic() > deadline:
                    inbox.put(("late", None))
                    return
                received += len(chunk)
                if received > _MAX_REPLY_BYTES:
                    inbox.put(("too_large", None))
                    return
                inbox.put(("chunk", chunk))
        inbox.put(("end", None))
    except Exception as exc:  # handed to the reader, which reports it
        inbox.put(("error", exc))


def _receive(
    inbox: queue.Queue[_Item], deadline: float, endpoint: Endpoint, timeout: float
) -> _Item:
    try:
        kind, value = inbox.get(timeout=max(deadline - time.monotonic(), 0.0))
    except queue.Empty:
        kind, value = "late", None
    if kind == "late":
        raise endpoint.error(
            f"did not finish answering within {timeout:g}s",
            "raise TANYA_LLM_TIMEOUT or use a smaller, faster model",
            timed_out=True,
        )
    if kind == "too_large":
        raise endpoint.malformed(f"more than {_MAX_REPLY_BYTES // 2**20} MiB")
    if kind == "status":
        raise _status_error(endpoint, *value)
    if kind == "error":
        raise _transport_error(endpoint, value, timeout) from value
    return kind, value


def _client(local: bool) -> httpx.Client:
    """A shared client: building one loads TLS certificates (~50 ms), and its pool keeps
    connections to the server alive between questions. httpx clients are thread-safe."""
    with _CLIENTS_LOCK:
        if local not in _CLIENTS:
            _CLIENTS[local] = _local_client() if local else httpx.Client()
        return _CLIENTS[local]


def _local_client() -> httpx.Client:
    # A server on this machine is never behind the user's HTTP(S)_PROXY. Requests go out
    # as headers then body; without TCP_NODELAY the body waits for a delayed ACK (~40 ms)
    # each time a kept-alive connection is reused.
    nodelay = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
    return httpx.Client(trust_env=False, transport=httpx.HTTPTransport(socket_options=nodelay))


def _is_loopback(url: str) -> bool:
    host = httpx.URL(url).host
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _read_some(response: httpx.Response) -> str:
    data = b""
    for chunk in response.iter_bytes():
        data += chunk
        if len(data) >= _MAX_ERROR_BYTES:
            break
    return data[:_MAX_ERROR_BYTES].decode("utf-8", errors="replace")


def _status_error(endpoint: Endpoint, status: int, body: str) -> LLMError:
    said = f"HTTP {status}" + (f": {detail}" if (detail := error_detail(body)) else "")
    if status in (401, 403):
        key = f"check {endpoint.key_var}" if endpoint.key_var else "check its access settings"
        return endpoint.error(f"refused the request ({said})", key)
    if status == 404:
        return endpoint.error(f"has no such model or route ({said})", endpoint.not_found_advice)
    if status < 500:
        return endpoint.error(
            f"rejected the request ({said})",
            f"check the model name {endpoint.model!r} and the server's log",
        )
    return endpoint.error(f"failed ({said})", "see the server's log, then try again")


def _transport_error(endpoint: Endpoint, exc: Exception, timeout: float) -> LLMError:
    where = f"set {endpoint.location_var} to where it listens"
    if isinstance(exc, httpx.ConnectTimeout):
        return endpoint.error(
            f"did not accept a connection within {timeout:g}s",
            f"check that it is running, or {where}",
            timed_out=True,
        )
    if isinstance(exc, httpx.ConnectError):
        return endpoint.error(
            f"cannot be reached ({exc or 'connection failed'})", f"start it, or {where}"
        )
    if isinstance(exc, httpx.TimeoutException):
        return endpoint.error(
            f"stopped responding for {timeout:g}s",
            "raise TANYA_LLM_TIMEOUT or use a smaller, faster model",
            timed_out=True,
        )
    if isinstance(exc, httpx.HTTPError):
        return endpoint.error(
            f"broke off the reply ({type(exc).__name__}: {exc})",
            "see the server's log, then try again",
        )
    return endpoint.error(
        f"could not be used ({type(exc).__name__}: {exc})", f"check {endpoint.location_var}"
    )


def error_detail(body: str, limit: int = 200) -> str:
    """The human part of an error body: ``{"error": {"message": ...}}`` and its cousins."""
    detail: Any = body
    with suppress(ValueError):
        detail = json.loads(body)
    for _ in range(3):  # {"error": {"message": "..."}} nests at most this deep
        if not isinstance(detail, dict):
            break
        detail = next(
            (detail[k] for k in ("error", "message", "detail") if k in detail), json.dumps(detail)
        )
    text = re.sub(r"\s+", " ", str(detail)).strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."
