"""Citation markers: one regex to find them, and a check against what was retrieved."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from assistant.types import Citation, Passage

MARKER = re.compile(r"\[(\d+)\]")


def markers(text: str) -> list[int]:
    """The ``[n]`` numbers in ``text``, in order of appearance."""
    return [int(m) for m in MARKER.findall(text)]


def verify_markers(
    text: str,
    passages: Sequence[Passage],
    quote_for: Callable[[Passage], tuple[str, int, int, float]],
) -> tuple[str, list[Citation], list[str]]:
    """Keep markers that point at a retrieved passage; renumber them 1..m in order of
    first use; drop the rest and say so. ``quote_for`` picks the exact sentence to quote."""
    by_rank = {p.rank: p for p in passages}
    renumber: dict[int, int] = {}
    citations: list[Citation] = []
    dropped: list[int] = []

    def replace(match: re.Match[str]) -> str:
        n = int(match.group(1))
        passage = by_rank.get(n)
        if passage is None:
            dropped.append(n)
            return ""
        if n not in renumber:
            renumber[n] = len(renumber) + 1
            quote, start, end, score = quote_for(passage)
            citations.append(Citation(
                n=renumber[n], doc_id=passage.doc_id, title=passage.title,
                section=passage.section, paragraph=passage.paragraph, quote=quote,
                start=start, end=end, score=score, passage_rank=passage.rank,
                url=passage.url, published=passage.published, author=passage.author))
        return f"[{renumber[n]}]"

    cleaned = re.sub(r"[ \t]+([.,;:!?])", r"\1", MARKER.sub(replace, text))
    cleaned = re.sub(r"[ \t]{2,}", " ", cleaned).strip()
    warnings = [f"dropped citation [{n}]: no retrieved passage has that number"
                for n in sorted(set(dropped))]
    return cleaned, citations, warnings
