"""LLM answerers: stream an answer with ``[n]`` citations from retrieved passages.

``make_llm_answerer("openai:MODEL" | "ollama:MODEL", settings)`` gives an object whose
``stream(question, lang, history, passages)`` yields text deltas. The service joins them
and checks every citation against what was retrieved.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import Protocol

import httpx

from assistant.errors import ConfigError
from assistant.llm.ollama_native import DEFAULT_HOST, OllamaAnswerer
from assistant.llm.openai_compat import DEFAULT_BASE_URL, OpenAIAnswerer
from assistant.llm.prompt import build_messages
from assistant.settings import Settings
from assistant.types import Passage, Turn

__all__ = [
    "LLMAnswerer",
    "OllamaAnswerer",
    "OpenAIAnswerer",
    "build_messages",
    "make_llm_answerer",
]

_FORMS = (
    "openai:MODEL (any OpenAI-compatible server at OPENAI_BASE_URL) or "
    "ollama:MODEL (Ollama's /api/chat at OLLAMA_HOST)"
)


class LLMAnswerer(Protocol):
    """What the service needs from an LLM backend."""

    def stream(
        self, question: str, lang: str, history: list[Turn], passages: list[Passage]
    ) -> Iterator[str]:
        """Text deltas of the answer, in order."""
        ...


def make_llm_answerer(
    spec: str, settings: Settings, env: Mapping[str, str] | None = None
) -> LLMAnswerer:
    """The answerer a spec names, configured from ``settings`` and the environment.

    This is the edge for the servers' own standard variables, which Tanya honours rather
    than renaming: ``OPENAI_BASE_URL`` (default ``https://api.openai.com/v1``),
    ``OPENAI_API_KEY`` (optional for local servers) and ``OLLAMA_HOST`` (default
    ``http://127.0.0.1:11434``). ``env`` replaces ``os.environ``, for tests.

    Raises:
        ConfigError: the spec or one of those variables is unusable.
    """
    env = os.environ if env is None else env
    backend, _, model = spec.strip().partition(":")
    model = model.strip()
    if not model or backend not in ("openai", "ollama"):
        raise ConfigError(f"unknown LLM {spec!r}; use {_FORMS}")
    if backend == "ollama":
        return OllamaAnswerer(
            model, env.get("OLLAMA_HOST") or DEFAULT_HOST, timeout=settings.llm_timeout
        )
    base_url = _http_url(env.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL, "OPENAI_BASE_URL")
    api_key = env.get("OPENAI_API_KEY", "").strip()
    if not api_key and httpx.URL(base_url).host == "api.openai.com":
        raise ConfigError(
            "OpenAI needs OPENAI_API_KEY; for a local server "
            "(llama.cpp, vLLM, Ollama) set OPENAI_BASE_URL, e.g. "
            "http://127.0.0.1:8080/v1"
        )
    return OpenAIAnswerer(model, base_url, api_key, timeout=settings.llm_timeout)


def _http_url(value: str, name: str) -> str:
    try:
        url = httpx.URL(value.strip())
    except httpx.InvalidURL as exc:
        raise ConfigError(f"{name} is not a usable URL ({exc})") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigError(
            f"{name} must be an http:// or https:// URL, e.g. http://127.0.0.1:8080/v1"
        )
    return str(url)
