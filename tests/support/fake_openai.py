"""A scripted LLM server on 127.0.0.1 that speaks OpenAI's ``/v1/chat/completions``
(server-sent events or one JSON completion) and Ollama's ``/api/chat`` (NDJSON).

It records every request and replays the replies a test scripts, in order; with no
script left it streams "ok". Misbehaviour on demand: error statuses, raw bytes, a server
that never answers (``hang``) and one that trickles keep-alives forever (``trickle``).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

Mode = Literal["stream", "json", "error", "raw", "hang", "trickle"]
_MAX_WAIT = 30.0  # a hanging handler gives up by itself if the test forgets to stop


@dataclass
class Reply:
    """One scripted reply.

    ``stream`` sends ``deltas`` one event at a time (pausing after ``pause_after`` of them
    until ``FakeLLMServer.release`` is set) and ends properly unless ``finish`` is False;
    ``json`` sends one non-streaming completion; ``error`` sends ``status`` with ``body``;
    ``raw`` sends ``body`` as a 200 event stream.
    """

    deltas: Sequence[str] = ("ok",)
    mode: Mode = "stream"
    status: int = 200
    body: str = ""
    pause_after: int | None = None
    finish: bool = True


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeLLMServer:
    port: int = 0  # 0: the system picks a free one at start (no pick-then-bind race)
    requests: list[Recorded] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    _replies: deque[Reply] = field(default_factory=deque)
    stopping: threading.Event = field(default_factory=threading.Event)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def script(self, *replies: Reply) -> None:
        self._replies.extend(replies)

    def start(self) -> FakeLLMServer:
        fake = self

        class Handler(_Handler):
            server_fake = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = int(self._server.server_address[1])
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="fake-llm", daemon=True
        ).start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def next_reply(self) -> Reply:
        return self._replies.popleft() if self._replies else Reply()


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 with chunked streams and keep-alive, as vLLM, llama.cpp and Ollama serve.
    protocol_version = "HTTP/1.1"
    timeout = 5  # idle keep-alive connections end by themselves after the test
    disable_nagle_algorithm = True  # like uvicorn, Go and llama.cpp servers: no 40 ms stalls
    server_fake: FakeLLMServer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean

    def do_POST(self) -> None:
        fake = self.server_fake
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
        fake.requests.append(Recorded(self.path, dict(self.headers.items()), body))
        ollama = self.path == "/api/chat"
        if self.path not in ("/api/chat", "/v1/chat/completions"):
            return self._send(404, "application/json", json.dumps({"error": "no such route"}))
        # The client may give up first: that is what the timeout tests provoke.
        with suppress(BrokenPipeError, ConnectionResetError):
            self._reply(fake.next_reply(), ollama, fake)

    def _reply(self, reply: Reply, ollama: bool, fake: FakeLLMServer) -> None:
        if reply.mode == "hang":
            self.close_connection = True
            fake.stopping.wait(_MAX_WAIT)
        elif reply.mode == "error":
            self._send(reply.status, "application/json", reply.body)
        elif reply.mode == "raw":
            self._send(200, "text/event-stream", reply.body)
        elif reply.mode == "json":
            self._send(200, "application/json", json.dumps(_completion("".join(reply.deltas))))
        elif reply.mode == "trickle":
            self._start(200, "application/x-ndjson" if ollama else "text/event-stream")
            deadline = time.monotonic() + _MAX_WAIT
            while not fake.stopping.is_set() and time.monotonic() < deadline:
                self._write("\n" if ollama else ": keep-alive\n\n")
                time.sleep(0.05)
            self._end()
        else:
            self._stream(reply, ollama, fake)

    def _stream(self, reply: Reply, ollama: bool, fake: FakeLLMServer) -> None:
        self._start(200, "application/x-ndjson" if ollama else "text/event-stream")
        for i, delta in enumerate(reply.deltas):
            if i == reply.pause_after:
                fake.release.wait(_MAX_WAIT)
            self._write(_ollama_line(delta, done=False) if ollama else _sse(_chunk(delta)))
        if reply.finish:
            self._write(
                _ollama_line("", done=True)
                if ollama
                else _sse(_chunk("", finish="stop")) + "data: [DONE]\n\n"
            )
        self._end()

    def _send(self, status: int, content_type: str, text: str) -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _start(self, status: int, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()

    def _write(self, text: str) -> None:
        data = text.encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _end(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


def _chunk(content: str, finish: str | None = None) -> dict[str, Any]:
    delta = {"content": content} if content else {}
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "model": "fake",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _completion(content: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "model": "fake",
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": content},
            }
        ],
    }


def _sse(event: dict[str, Any]) -> str:
    return f"data: {json.dumps(event)}\n\n"


def _ollama_line(content: str, done: bool) -> str:
    return (
        json.dumps(
            {"model": "fake", "message": {"role": "assistant", "content": content}, "done": done}
        )
        + "\n"
    )
