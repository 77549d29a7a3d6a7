"""JSONL archive dumps: one article per line, as CMS exports and news datasets come.

    {"id": "a-17", "title": "...", "url": "https://...", "published": "2024-03-05",
     "text": "<p>...</p> or plain text"}

``id`` and ``text`` are required; ``title``, ``url``, ``published``, ``author`` and
``lang`` are optional (a string or null); other keys are ignored. ``text`` may be HTML.
A bad line is reported with its number and skipped; the other lines still load.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from index.formats import Extracted, FormatError, check_fields
from index.formats.html import article_text, looks_like_html

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_OPTIONAL = ("title", "url", "published", "author", "lang")

Line = tuple[int, Extracted | FormatError]


def read_dump(path: Path, max_line_bytes: int) -> Iterator[Line]:
    """``(line number, article or the reason the line was skipped)`` for each non-blank
    line, numbered from 1.

    Raises:
        OSError: the file cannot be read.
    """
    with open(path, "rb") as handle:
        for number, raw in enumerate(_lines(handle, max_line_bytes), start=1):
            if raw is None:
                yield number, FormatError(f"line is longer than {max_line_bytes} bytes")
            elif raw.strip():
                try:
                    yield number, parse_record(raw, first=number == 1)
                except FormatError as exc:
                    yield number, exc


def _lines(handle: BinaryIO, limit: int) -> Iterator[bytes | None]:
    """Lines of ``handle``; None for one longer than ``limit`` (read past, never held)."""
    while True:
        line = handle.readline(limit + 1)
        if not line:
            return
        if len(line) > limit and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):
                line = handle.readline(1 << 20)
            yield None
        else:
            yield line


def parse_record(raw: bytes, first: bool = False) -> Extracted:
    """One line of a dump as an article (``text`` as plain text).

    Raises:
        FormatError: what is wrong with the line.
    """
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(f"not valid UTF-8 (byte {exc.start})") from exc
    try:
        record = json.loads(line.lstrip("\ufeff") if first else line)
    except json.JSONDecodeError as exc:
        raise FormatError(f"not valid JSON ({exc.msg} at column {exc.colno})") from exc
    except RecursionError as exc:
        raise FormatError("not valid JSON (nested too deeply)") from exc
    if not isinstance(record, dict):
        raise FormatError(f"a line must be a JSON object, not {type(record).__name__}")
    check_fields(record)
    doc_id = _id(record.get("id"))
    text = record.get("text")
    if not isinstance(text, str):
        raise FormatError(f"record {doc_id!r}: 'text' must be a string")
    fields = {key: _optional(record, key, doc_id) for key in _OPTIONAL}
    if looks_like_html(text):
        try:
            text = article_text(text)
        except FormatError as exc:
            raise FormatError(f"record {doc_id!r}: {exc}") from exc
    if not text.strip():
        raise FormatError(f"record {doc_id!r}: 'text' is empty")
    return Extracted(text=text, doc_id=doc_id, **fields)


def _id(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise FormatError("'id' is missing (a string or an integer)")
    doc_id = str(value).strip()
    if not _ID.fullmatch(doc_id):
        raise FormatError(f"id {doc_id[:60]!r} may hold only letters, digits, '.', '_' and "
                          "'-' (at most 128, starting with a letter or digit)")
    return doc_id


def _optional(record: dict[str, Any], key: str, doc_id: str) -> str:
    value = record.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise FormatError(f"record {doc_id!r}: {key!r} must be a string or null")
    return value
