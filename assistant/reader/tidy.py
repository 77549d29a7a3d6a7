"""Typographic tidying of an answer span: no dangling punctuation, no half a quotation.

The reader picks token spans, and a span can stop inside a quotation (``pengakuan
"kenyataan``, where the passage goes on ``saat ini"``) or carry a comma or dash from the
sentence around it. Shown first in an answer, such a span reads as broken. These rules
are punctuation only, the same in any language written with these marks: nothing here
knows a word.
"""

from __future__ import annotations

import re
import unicodedata

#: Opening mark -> its closing mark. The straight double quote closes itself.
PAIRS = {'"': '"', "\u201c": "\u201d", "\u00ab": "\u00bb", "(": ")", "[": "]"}
#: How far past the span a quotation may close for the span to take it in.
REACH = 40
_CLOSERS = frozenset(PAIRS.values()) | {"\u2019"}
_EDGE = ",;:"  # a span never starts or ends with these, nor with a dash
#: Dashes that are not dashes: a minus sign ("-5 derajat") or a word's hyphen stay.
_HYPHENS = frozenset("-\u2010\u2011")
#: A span grows only within its sentence (the cited sentence must still hold it): not
#: past a line break or a full stop, question or exclamation mark before a space.
_SENTENCE_END = re.compile(r"\n|[.!?]\s")


def tidy_span(text: str, start: int, end: int) -> tuple[int, int]:
    """``text[start:end]`` with a quotation it opens but does not close completed, when
    the closing mark follows within ``REACH`` characters in the same sentence (the same
    backwards for one it closes but does not open), else its mark on the edge dropped;
    leading or trailing commas, semicolons, colons, dashes and spaces dropped; and a
    final full stop left to the sentence.
    Returns the new offsets; never empties a span that was not empty."""
    if end <= start:
        return start, end
    s, e = _strip_edges(text, start, end)
    for opener, closer in PAIRS.items():
        s, e = _balance(text, s, e, opener, closer)
    s, e = _strip_edges(text, s, e)
    e = _without_full_stop(text, s, e)
    return (s, e) if e > s else (start, end)


def _without_full_stop(text: str, s: int, e: int) -> int:
    """The end of a span that ends its sentence, without the sentence's full stop ("1 Juli
    2024." reads "1 Juli 2024"). Only where the sentence ends (the text ends there, or
    a space or a closing mark follows), so a point inside a number ("1.500") stays; a
    last word with a point of its own ("S.H.", "Rp 1.500.000.", "10.00.") or an ellipsis
    keeps its points."""
    words = text[s:e - 1].split()
    if e - s < 2 or text[e - 1] != "." or not words or "." in words[-1]:
        return e
    if e < len(text) and not (text[e].isspace() or text[e] in _CLOSERS):
        return e
    return e - 1


def _opens(text: str, at: int, opener: str, closer: str) -> bool:
    """Whether the mark at ``text[at]`` opens: a straight quote opens after a space,
    an opening mark or the start of the text, and closes otherwise."""
    if opener != closer:
        return text[at] == opener
    return at == 0 or text[at - 1].isspace() or text[at - 1] in PAIRS


def _may_close(text: str, at: int, opener: str, closer: str) -> bool:
    """Whether the mark could close a quotation: a straight quote with spaces on both
    sides (``lagu " Jujur "``, a style some newsrooms use) may open or close."""
    if opener != closer:
        return text[at] == closer
    return not _opens(text, at, opener, closer) or _spaced(text, at)


def _may_open(text: str, at: int, opener: str, closer: str) -> bool:
    if opener != closer:
        return text[at] == opener
    return _opens(text, at, opener, closer) or _spaced(text, at)


def _spaced(text: str, at: int) -> bool:
    return (at == 0 or text[at - 1].isspace()) and (at + 1 == len(text)
                                                    or text[at + 1].isspace())


def _balance(text: str, s: int, e: int, opener: str, closer: str) -> tuple[int, int]:
    unclosed: list[int] = []
    stray: list[int] = []  # closing marks whose opening the span left out
    for at in range(s, e):
        if text[at] not in (opener, closer):
            continue
        if _opens(text, at, opener, closer):
            unclosed.append(at)
        elif unclosed:
            unclosed.pop()
        else:
            stray.append(at)
    if len(unclosed) == 1 and not stray:
        after = _SENTENCE_END.split(text[e:e + REACH], 1)[0]
        # The first mark after the span must close the quotation, not open another.
        marks = [i for i, ch in enumerate(after) if ch in (opener, closer)]
        if marks and _may_close(text, e + marks[0], opener, closer):
            return s, e + marks[0] + 1
        if unclosed[0] == s:  # an opening mark on the edge, its quotation beyond reach
            return s + 1, e
    elif len(stray) == 1 and not unclosed:
        before = _SENTENCE_END.split(text[max(0, s - REACH):s])[-1]
        base = s - len(before)
        # The last mark before the span must open the quotation, not close another.
        marks = [i for i, ch in enumerate(before) if ch in (opener, closer)]
        if marks and _may_open(text, base + marks[-1], opener, closer):
            return base + marks[-1], e
        if stray[0] == e - 1:  # on the edge, its quotation beyond reach: drop it
            return s, e - 1
    return s, e


def _strip_edges(text: str, s: int, e: int) -> tuple[int, int]:
    while s < e and _loose(text[s]):
        s += 1
    while e > s and _loose(text[e - 1]):
        e -= 1
    return s, e


def _loose(ch: str) -> bool:
    return ch.isspace() or ch in _EDGE or (unicodedata.category(ch) == "Pd"
                                           and ch not in _HYPHENS)
