"""Answers through Ollama's native ``/api/chat``, streamed as newline-delimited JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx

from assistant.errors import ConfigError
from assistant.llm.prompt import build_messages
from assistant.llm.transport import Endpoint, error_detail, post_streaming
from assistant.types import Passage, Turn

DEFAULT_HOST = "http://127.0.0.1:11434"
_DEFAULT_PORT = 11434


def ollama_base_url(host: str) -> str:
    """``OLLAMA_HOST`` as a URL; like Ollama's own client, it accepts ``host``,
    ``host:port`` or a full URL, and defaults the scheme to http and the port to 11434."""
    host = host.strip() or DEFAULT_HOST
    if "://" not in host:
        host = f"http://{host}"
    try:
        url = httpx.URL(host)
    except httpx.InvalidURL as exc:
        raise ConfigError(f"OLLAMA_HOST={host!r} is not a usable address ({exc})") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigError(
            f"OLLAMA_HOST={host!r} must look like 127.0.0.1:11434 or http://HOST:PORT"
        )
    if url.port is None and url.scheme == "http":
        url = url.copy_with(port=_DEFAULT_PORT)
    return str(url).rstrip("/")


class OllamaAnswerer:
    """Streams an answer from an Ollama server's ``/api/chat``.

    Example::

        answerer = OllamaAnswerer("llama3.2:3b", "http://127.0.0.1:11434")
        text = "".join(answerer.stream("Apa tuntutan Kyiv?", "id", [], passages))
    """

    def __init__(self, model: str, host: str = DEFAULT_HOST, timeout: float = 30.0) -> None:
        self.model = model
        self.timeout = timeout
        self.endpoint = Endpoint(
            url=ollama_base_url(host) + "/api/chat",
            model=model,
            location_var="OLLAMA_HOST",
            headers={"Accept": "application/x-ndjson"},
            not_found_advice=f"run `ollama pull {model}`, or check the model name",
        )

    def stream(
        self, question: str, lang: str, history: list[Turn], passages: list[Passage]
    ) -> Iterator[str]:
        """The answer's text deltas, in order."""
        body = {
            "model": self.model,
            "stream": True,
            "options": {"temperature": 0},
            "messages": build_messages(question, lang, history, passages),
        }
        with post_streaming(self.endpoint, body, self.timeout) as reply:
            for line in reply.lines():
                if not line.strip():
                    continue
                event = _load(line, self.endpoint)
                content = _content(event, self.endpoint)
                if content:
                    yield content
                if event.get("done"):
                    return
        raise self.endpoint.error(
            "ended the stream before the answer was complete",
            "see the server's log, then try again",
        )


def _load(line: str, endpoint: Endpoint) -> dict[str, Any]:
    try:
        event = json.loads(line)
    except ValueError:
        raise endpoint.malformed(f"not a JSON line: {line[:80]!r}") from None
    if not isinstance(event, dict):
        raise endpoint.malformed(f"expected a JSON object, got {line[:80]!r}")
    if event.get("error"):
        raise endpoint.error(
            f"reported an error ({error_detail(line)})", "see the server's log, then try again"
        )
    return event


def _content(event: dict[str, Any], endpoint: Endpoint) -> str:
    message = event.get("message")
    content = message.get("content") if isinstance(message, dict) else None
    if content is None:
        return ""
    if not isinstance(content, str):
        raise endpoint.malformed("'message.content' is not text")
    return content
