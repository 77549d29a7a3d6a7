"""Request limits for the HTTP edge: per-client rate, concurrent work, body size, and
the Gradio routes the chat window may use.

The limits refuse early instead of queueing: a 2-core box answering CPU-bound questions
is better served by a quick 429/503/413 than by a growing pile of waiting requests.
"""

from __future__ import annotations

import math
import posixpath
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import anyio
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_TRACKED_CLIENTS = 10_000


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """A token bucket per client: ``per_minute`` requests, refilled continuously.

    Per process: with ``--workers N`` each worker keeps its own buckets. At most
    ``max_clients`` buckets are kept, least recently seen first out.
    """

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic,
                 max_clients: int = MAX_TRACKED_CLIENTS) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.clock = clock
        self.max_clients = max_clients
        # Least recently seen first: forgetting is a look at the front, never a scan.
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.capacity > 0

    @property
    def tracked(self) -> int:
        """How many clients have a bucket now."""
        return len(self._buckets)

    def acquire(self, client: str) -> float:
        """Take one token for ``client``: 0.0 if allowed, else seconds until one is free."""
        if not self.enabled:
            return 0.0
        now = self.clock()
        with self._lock:
            bucket = self._buckets.get(client)
            if bucket is None:
                self._forget(now)
                bucket = self._buckets[client] = _Bucket(self.capacity, now)
            else:
                self._buckets.move_to_end(client)
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0.0
            return (1 - bucket.tokens) / self.rate

    def _forget(self, now: float) -> None:
        # A bucket that has refilled is indistinguishable from a new one: dropping it
        # changes nothing. Past the cap, the least recently seen client goes even so
        # (it gets a full bucket back if it returns): memory stays bounded however many
        # addresses a flood comes from.
        full_after = self.capacity / self.rate
        while self._buckets:
            oldest = next(iter(self._buckets.values()))
            if now - oldest.updated < full_after and len(self._buckets) < self.max_clients:
                return
            self._buckets.popitem(last=False)


def retry_after(seconds: float) -> str:
    """A ``Retry-After`` header value: whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))


RATE_LIMITED = "too many requests; slow down and retry"


def rate_limit_headers(limiter: RateLimiter, client: str) -> dict[str, str] | None:
    """None when ``client`` may go on, else the headers of its 429 (``Retry-After``)."""
    wait = limiter.acquire(client)
    return {"Retry-After": retry_after(wait)} if wait else None


def error_response(status: int, kind: str, message: str,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    """Every error Tanya's HTTP layer sends: ``{"error": {"message", "type"}}``."""
    return JSONResponse({"error": {"message": message, "type": kind}}, status_code=status,
                        headers=headers)


class ConcurrencyGate:
    """Admits at most ``limit`` requests at once; the rest are refused, not queued."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.active = 0
        self._lock = threading.Lock()

    def try_enter(self) -> bool:
        with self._lock:
            if self.limit > 0 and self.active >= self.limit:
                return False
            self.active += 1
            return True

    def leave(self) -> None:
        with self._lock:
            self.active = max(0, self.active - 1)


# A refused body is still read, within these bounds, before the 413 goes out: a client
# still sending when the server closes gets a connection reset instead of the response
# (urllib, requests and httpx report a network error, not the 413). Past them (too big,
# stalled, too slow, or too many refused bodies being read at once) the 413 goes out at
# once and the connection closes.
DRAIN_MAX_BYTES = 16 * 1024 * 1024
DRAIN_MAX_CONCURRENT = 4  # reading a refused body costs a connection and bandwidth
_DRAIN_IDLE_S = 2.0
_DRAIN_TOTAL_S = 15.0


class BodySizeLimit:
    """ASGI middleware: 413 for bodies over ``max_bytes``, counted as they arrive.

    A declared Content-Length over the limit is refused without passing anything to the
    app; chunked bodies (no Content-Length) are read up to the limit, then refused. The
    rest of a refused body is read and discarded (see ``DRAIN_MAX_BYTES``) so that the
    client can read the 413; a declared length past that bound, or one behind
    ``Expect: 100-continue``, is answered without reading. Accepted bodies are replayed
    to the app unchanged.
    """

    def __init__(self, app: ASGIApp, max_bytes: int,
                 larger: tuple[Callable[[Scope], bool], int] | None = None) -> None:
        """``larger``: requests the predicate picks (the document API's uploads) may send
        up to its limit instead."""
        self.app = app
        self.max_bytes = max_bytes
        self.larger = larger
        self.draining = 0  # refused bodies being read now (one event loop: no lock)

    def limit(self, scope: Scope) -> int:
        if self.larger is not None and self.larger[0](scope):
            return self.larger[1]
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.limit(scope) if scope["type"] == "http" else 0
        if limit <= 0:
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            # With Expect: 100-continue the client waits for our word before sending:
            # reading would invite the body, answering now spares it.
            if declared <= DRAIN_MAX_BYTES and not _expects_continue(scope):
                await self._drain_then_refuse(scope, receive, send, 0)
            else:
                await self._refuse(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            size += len(body)
            more = message.get("more_body", False)
            if size > limit:
                if more:
                    await self._drain_then_refuse(scope, receive, send, size)
                else:
                    await self._refuse(scope, receive, send)
                return
            chunks.append(body)
            if not more:
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()  # after the body: wait for disconnect, as servers do

        await self.app(scope, replay, send)

    async def _drain_then_refuse(self, scope: Scope, receive: Receive, send: Send,
                                 size: int) -> None:
        if self.draining < DRAIN_MAX_CONCURRENT:
            self.draining += 1
            try:
                if not await _drain(receive, size):
                    return  # the client went away: nobody to answer
            finally:
                self.draining -= 1
        await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        await error_response(413, "payload_too_large",
                             f"the request body is larger than {self.limit(scope)} bytes",
                             {"Connection": "close"})(scope, receive, send)


async def _drain(receive: Receive, size: int) -> bool:
    """Read and discard the rest of a body (``size`` bytes of it read so far) until it
    ends, passes ``DRAIN_MAX_BYTES``, stalls or takes too long; False if the client
    went away."""
    with anyio.move_on_after(_DRAIN_TOTAL_S):
        while size <= DRAIN_MAX_BYTES:
            with anyio.move_on_after(_DRAIN_IDLE_S) as idle:
                message = await receive()
            if idle.cancelled_caught:
                break
            if message["type"] == "http.disconnect":
                return False
            size += len(message.get("body", b""))
            if not message.get("more_body", False):
                break
    return True


def _expects_continue(scope: Scope) -> bool:
    return any(name == b"expect" and value.lower() == b"100-continue"
               for name, value in scope.get("headers", []))


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


# Gradio routes the chat window never uses: uploads (a free file host on our origin),
# file serving, media streams, recordings, the vibe editor, dev reload (a stream that
# never ends), proxying, custom components, MCP and monitoring.
_UNUSED_ROUTES = (
    "/gradio_api/upload", "/gradio_api/file", "/gradio_api/stream/",
    "/gradio_api/process_recording", "/gradio_api/vibe", "/gradio_api/undo-vibe",
    "/gradio_api/dev/", "/gradio_api/proxy=", "/gradio_api/custom_component/",
    "/gradio_api/mcp", "/monitoring", "/file=", "/mcp",
)
# Routes that start an answer: they share the API's per-client quota.
_WORK_ROUTES = ("/gradio_api/queue/join", "/gradio_api/call/", "/gradio_api/run/",
                "/gradio_api/api/")


class ChatWindowGuard:
    """ASGI middleware for the Gradio window: 404 for routes it does not use, 429 when
    a client is over the quota it shares with the API."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        paths = route_paths(scope)
        if any(p.startswith(_UNUSED_ROUTES) for p in paths):
            await error_response(404, "not_found", "Not Found")(scope, receive, send)
            return
        if scope["method"] == "POST" and any(p.startswith(_WORK_ROUTES) for p in paths):
            client = scope.get("client")
            headers = rate_limit_headers(self.limiter, client[0] if client else "unknown")
            if headers:
                await error_response(429, "rate_limited", RATE_LIMITED, headers)(
                    scope, receive, send)
                return
        await self.app(scope, receive, send)


def route_paths(scope: Scope) -> tuple[str, str]:
    """The request path below the root path, as sent (slashes collapsed) and resolved
    (``.`` and ``..`` applied): a prefix check on both lets no spelling slip past."""
    path = str(scope.get("path", "/"))
    root = str(scope.get("root_path", ""))
    if root and path.startswith(root):
        path = path[len(root):]
    collapsed = "/" + "/".join(part for part in path.split("/") if part)
    return collapsed, posixpath.normpath(collapsed)
