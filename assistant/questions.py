"""Checking what people type before it reaches retrieval."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from assistant.errors import BadQuestionError
from assistant.types import Turn
from index.documents import strip_invisible
from index.formats import lone_surrogate

# Questions drop the same invisible and control characters as indexed documents (they
# also reach LLM prompts, through ``strip_invisible``); newlines and tabs become spaces
# with the rest of whitespace.
MAX_HISTORY_TURNS = 6


def check_readable(text: str, what: str = "the question") -> None:
    """BadQuestionError when ``text`` holds a lone surrogate (half a character)."""
    problem = lone_surrogate(text)
    if problem:
        raise BadQuestionError(f"{what} cannot be read: {problem}")


def clean_question(raw: object, max_chars: int) -> str:
    """A usable question, or BadQuestionError saying what is wrong with it."""
    if not isinstance(raw, str):
        raise BadQuestionError("the question must be text")
    check_readable(raw)
    text = strip_invisible(unicodedata.normalize("NFC", raw))
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        raise BadQuestionError("the question is empty; ask something about the article")
    if len(text) > max_chars:
        raise BadQuestionError(
            f"the question is {len(text)} characters long; the limit is {max_chars}. "
            "Ask something shorter.")
    if not re.search(r"\w", text):
        raise BadQuestionError("the question has no words; ask something about the article")
    return text


def clean_history(raw: Iterable[Any] | None, max_chars: int) -> list[Turn]:
    """Earlier turns as ``Turn``s (dicts or Turns accepted); keeps the last few."""
    turns: list[Turn] = []
    for i, item in enumerate(raw or []):
        role: Any
        content: Any
        if isinstance(item, Turn):
            role, content = item.role, item.content
        elif isinstance(item, Mapping):
            role, content = item.get("role"), item.get("content")
        else:
            raise BadQuestionError(f"history[{i}] must be an object with role and content")
        if role not in ("user", "assistant") or not isinstance(content, str):
            raise BadQuestionError(
                f"history[{i}] needs role 'user' or 'assistant' and text content")
        check_readable(content, f"history[{i}]")
        text = strip_invisible(content).strip()[: max_chars * 4]
        turns.append(Turn(role, text))
    return turns[-MAX_HISTORY_TURNS:]
