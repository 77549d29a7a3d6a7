"""Answers through any OpenAI-compatible ``/chat/completions`` endpoint, streamed as
server-sent events: OpenAI itself, vLLM, llama.cpp's server, Ollama's ``/v1``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from assistant.llm.prompt import build_messages
from assistant.llm.transport import Endpoint, error_detail, post_streaming
from assistant.types import Passage, Turn

DEFAULT_BASE_URL = "https://api.openai.com/v1"


class OpenAIAnswerer:
    """Streams an answer from ``{base_url}/chat/completions``.

    Example::

        answerer = OpenAIAnswerer("qwen2.5-3b-instruct", "http://127.0.0.1:8080/v1")
        text = "".join(answerer.stream("What does Kyiv demand?", "en", [], passages))
    """

    def __init__(
        self, model: str, base_url: str = DEFAULT_BASE_URL, api_key: str = "", timeout: float = 30.0
    ) -> None:
        self.model = model
        self.timeout = timeout
        headers = {"Accept": "text/event-stream"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self.endpoint = Endpoint(
            url=base_url.rstrip("/") + "/chat/completions",
            model=model,
            location_var="OPENAI_BASE_URL",
            key_var="OPENAI_API_KEY",
            secret=api_key,
            headers=headers,
            not_found_advice=(
                f"check the model name {model!r} and that OPENAI_BASE_URL "
                "ends where the server's API starts (usually /v1)"
            ),
        )

    def stream(
        self, question: str, lang: str, history: list[Turn], passages: list[Passage]
    ) -> Iterator[str]:
        """The answer's text deltas, in order."""
        body = {
            "model": self.model,
            "stream": True,
            "temperature": 0,
            "messages": build_messages(question, lang, history, passages),
        }
        with post_streaming(self.endpoint, body, self.timeout) as reply:
            if reply.content_type.startswith("application/json"):
                # A server that ignores ``stream`` sends one whole completion.
                yield _completion_text(_load(reply.text(), self.endpoint), self.endpoint)
            else:
                yield from _deltas(reply.lines(), self.endpoint)


def _deltas(lines: Iterator[str], endpoint: Endpoint) -> Iterator[str]:
    finished = False
    for data in _sse_data(lines):
        if data.strip() == "[DONE]":
            return
        event = _load(data, endpoint)
        _raise_reported(event, endpoint)
        for choice in _choices(event, endpoint):
            content = _field(choice.get("delta"), "content", endpoint)
            if content:
                yield content
            finished = finished or bool(choice.get("finish_reason"))
    if not finished:
        raise endpoint.error(
            "ended the stream before the answer was complete",
            "see the server's log, then try again",
        )


def _sse_data(lines: Iterator[str]) -> Iterator[str]:
    """The ``data`` of each server-sent event; other fields and comments carry nothing
    Tanya needs."""
    data: list[str] = []
    for line in lines:
        if not line:
            if data:
                yield "\n".join(data)
            data = []
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
    if data:
        yield "\n".join(data)


def _completion_text(event: dict[str, Any], endpoint: Endpoint) -> str:
    _raise_reported(event, endpoint)
    choices = _choices(event, endpoint)
    if not choices:
        raise endpoint.malformed("a completion without choices")
    return _field(choices[0].get("message"), "content", endpoint)


def _load(data: str, endpoint: Endpoint) -> dict[str, Any]:
    try:
        event = json.loads(data)
    except ValueError:
        raise endpoint.malformed(f"not JSON: {data[:80]!r}") from None
    if not isinstance(event, dict):
        raise endpoint.malformed(f"expected a JSON object, got {data[:80]!r}")
    return event


def _raise_reported(event: dict[str, Any], endpoint: Endpoint) -> None:
    if event.get("error"):
        raise endpoint.error(
            f"reported an error ({error_detail(json.dumps(event))})",
            "see the server's log, then try again",
        )


def _choices(event: dict[str, Any], endpoint: Endpoint) -> list[dict[str, Any]]:
    choices = event.get("choices") or []
    if not isinstance(choices, list) or not all(isinstance(c, dict) for c in choices):
        raise endpoint.malformed("'choices' is not a list of objects")
    return [c for c in choices if c.get("index", 0) == 0]


def _field(holder: Any, name: str, endpoint: Endpoint) -> str:
    """``holder[name]`` as text; absent or null means no text."""
    value = holder.get(name) if isinstance(holder, dict) else None
    if value is None:
        return ""
    if not isinstance(value, str):
        raise endpoint.malformed(f"{name!r} is not text")
    return value
