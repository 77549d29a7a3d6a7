"""Readers for the corpus formats beyond plain text: HTML pages, PDF, JSONL dumps.

Each reader returns :class:`Extracted` (raw text and whatever metadata the format
carries) or raises :class:`FormatError` with a reason a user can act on;
``index.documents`` normalises the text and builds the :class:`~index.documents.Document`.
The libraries behind them (trafilatura, lxml, pypdf) load on first use, so importing
``index`` stays cheap.
"""

from __future__ import annotations

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


__all__ = ["Extracted", "FormatError"]
