"""PDF: the text layer of a text PDF (pypdf, pure Python), reflowed into paragraphs.

A PDF stores lines, not paragraphs. A line ends its paragraph when the gap below it is
clearly wider than the page's usual line spacing, when the next line is blank, or when it
ends a sentence and falls clearly short of the page's full lines; other lines join the
next with a space. A PDF without a text layer (a scan) is refused, not indexed empty: it
needs OCR first.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path
from statistics import median
from typing import Any

from index.formats import Extracted, FormatError

# Ligatures (ﬁ, ﬂ, ...) that PDF fonts map text to; NFC keeps them, readers search "fi".
_LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi",
                            "\ufb04": "ffl", "\ufb05": "st", "\ufb06": "st"})
_SENTENCE_END = re.compile(r"""[.!?:…]["'”’)\]]*$""")
#: A line shorter than this share of the page's longest line may end a paragraph.
_SHORT_LINE = 0.85
#: A gap this many times the page's usual line spacing separates paragraphs.
_WIDE_GAP = 1.5

#: A line of text and the height it sits at on its page (None when pypdf did not say).
Line = tuple[str, float | None]


def extract_pdf(path: Path) -> Extracted:
    """Text and document-info metadata (title, author) of a text PDF.

    Raises:
        FormatError: not a readable PDF, encrypted, or without a text layer.
    """
    from pypdf import PdfReader

    # pypdf logs what it repairs in a broken file; the reason we report says enough.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(path, strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise FormatError("the PDF is encrypted; save a copy without a password")
        pages = [_lines(page) for page in reader.pages]
        info = reader.metadata
    except FormatError:
        raise
    except Exception as exc:  # pypdf raises many types on broken files
        raise FormatError(f"not a readable PDF ({type(exc).__name__}: {exc})") from exc
    if not pages:
        raise FormatError("the PDF has no pages")
    if not any(text.strip() for page in pages for text, _ in page):
        raise FormatError(f"the PDF has no text layer ({len(pages)} page(s), a scan?); "
                          "run OCR on it (e.g. ocrmypdf) and index the result")
    return Extracted(
        text=reflow(pages).translate(_LIGATURES),
        title=_info(info, "title"),
        author=_info(info, "author"),
    )


def _lines(page: Any) -> list[Line]:
    """The page's text lines with their heights, from pypdf's text visitor."""
    pieces: list[tuple[str, float]] = []

    def visit(text: str, cm: Sequence[float], tm: Sequence[float], *_: Any) -> None:
        if text:  # the height on the page: the text matrix's origin through the CTM
            pieces.append((text, tm[4] * cm[1] + tm[5] * cm[3] + cm[5]))

    text = page.extract_text(visitor_text=visit) or ""
    if "".join(piece for piece, _ in pieces) != text:  # positions do not cover the text
        return [(line, None) for line in text.split("\n")]
    lines: list[Line] = []
    current, height = "", None
    for piece, y in pieces:
        for i, part in enumerate(piece.split("\n")):
            if i:
                lines.append((current, height))
                current, height = "", None
            if part.strip() and height is None:
                height = y
            current += part
    lines.append((current, height))
    return lines


def reflow(pages: Sequence[Sequence[Line]]) -> str:
    """Pages of PDF lines as paragraphs separated by blank lines."""
    paragraphs: list[str] = []
    current: list[str] = []
    for page in pages:
        lines = [(text.strip(), y) for text, y in page]
        longest = max((len(text) for text, _ in lines), default=0)
        spacing = _usual_spacing(lines)
        for i, (text, y) in enumerate(lines):
            if not text:
                _flush(current, paragraphs)
                continue
            current.append(text)
            below = next((h for t, h in lines[i + 1:] if t), None)
            wide_gap = (spacing is not None and y is not None and below is not None
                        and y - below > _WIDE_GAP * spacing)
            short_end = _SENTENCE_END.search(text) and len(text) < _SHORT_LINE * longest
            if wide_gap or short_end:
                _flush(current, paragraphs)
    _flush(current, paragraphs)
    return "\n\n".join(paragraphs)


def _usual_spacing(lines: Sequence[Line]) -> float | None:
    """The median distance down from one text line to the next, if the page says."""
    heights = [y for text, y in lines if text and y is not None]
    gaps = [a - b for a, b in pairwise(heights) if a > b]
    return median(gaps) if gaps else None


def _flush(lines: list[str], paragraphs: list[str]) -> None:
    """Join ``lines`` into one paragraph; a line ending in a hyphen joins without a space
    (Indonesian "anak-\\nanak" is "anak-anak")."""
    if not lines:
        return
    text = lines[0]
    for line in lines[1:]:
        text += line if text.endswith("-") else f" {line}"
    paragraphs.append(text)
    lines.clear()


def _info(info: object, field: str) -> str:
    """A document-info field (pypdf's ``DocumentInformation``, or None without one)."""
    value = getattr(info, field, None)
    return str(value).strip() if value else ""
