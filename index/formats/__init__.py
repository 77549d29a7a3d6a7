"""Readers for the corpus formats beyond plain text: HTML pages, PDF, JSONL dumps.

Each reader returns :class:`Extracted` (raw text and whatever metadata the format
carries) or raises :class:`FormatError` with a reason a user can act on;
``index.documents`` normalises the text and builds the :class:`~index.documents.Document`.
The libraries behind them (trafilatura, lxml, pypdf) load on first use, so importing
``index`` stays cheap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


class FormatError(ValueError):
    """A file (or a line of a dump) that cannot be read; the message says why."""


@dataclass(frozen=True)
class Extracted:
    """What a reader found. ``text`` is not normalised yet; empty fields are unknown."""

    text: str
    title: str = ""
    author: str = ""
    published: str = ""
    url: str = ""
    lang: str = ""
    #: The record's own id (JSONL dumps only).
    doc_id: str = ""


_SURROGATE = re.compile("[\ud800-\udfff]")


def lone_surrogate(text: str) -> str | None:
    """Where ``text`` holds a lone surrogate, which no UTF-8 text can (a JSON escape such
    as "\\ud800", or bytes that were not UTF-8 read with errors="surrogateescape"): a
    short description, or None when there is none."""
    found = _SURROGATE.search(text)
    if found is None:
        return None
    return (f"U+{ord(found.group()):04X} at character {found.start() + 1} is a lone "
            "surrogate, not a character (text that was not valid UTF-8?)")


def surrogate_fields(value: object, where: str = "") -> list[str]:
    """Every lone surrogate in ``value`` (a string, or lists and dicts of them), each as
    ``'field': description`` (``'history'[0].content``: where it sits)."""
    if isinstance(value, str):
        problem = lone_surrogate(value)
        return [f"{where}: {problem}" if where else problem] if problem else []
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in surrogate_fields(item, f"{where}[{i}]")]
    if isinstance(value, dict):
        return [p for key, item in value.items()
                for p in surrogate_fields(item, f"{where}.{key}" if where else repr(key))]
    return []


def check_fields(record: dict[str, object]) -> None:
    """Raise FormatError naming the first field of ``record`` that holds a lone
    surrogate: checked before any extraction, which would cut the text short there."""
    found = surrogate_fields(record)
    if found:
        raise FormatError(found[0])


__all__ = ["Extracted", "FormatError", "check_fields", "lone_surrogate", "surrogate_fields"]
