"""Follow-up handling: turn a question plus history into a standalone retrieval query."""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.types import Turn

# Words that point back at something said before ("he", "dia", "that", "tersebut"...).
_ANAPHORA = frozenset(
    [
        "he",
        "she",
        "him",
        "her",
        "his",
        "hers",
        "they",
        "them",
        "their",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "there",
        "then",
        "dia",
        "ia",
        "beliau",
        "mereka",
        "itu",
        "ini",
        "tersebut",
        "sana",
        "situ",
        "begitu",
        "demikian",
        "nya",
    ]
)
_CONTINUATIONS = re.compile(
    r"^\s*(and|but|also|what about|how about|so|dan|lalu|kemudian|terus|bagaimana dengan|"
    r"kalau|sedangkan|juga)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"\w+", re.UNICODE)
_SHORT = 5


def is_follow_up(question: str) -> bool:
    """Heuristic: short, starts like a continuation, or leans on a pronoun."""
    words = [w.lower() for w in _WORD.findall(question)]
    if not words:
        return False
    if _CONTINUATIONS.match(question) or len(words) <= _SHORT:
        return True
    return any(w in _ANAPHORA or (len(w) > 4 and w.endswith("nya")) for w in words)


def standalone_query(question: str, history: Sequence[Turn]) -> str:
    """The text to retrieve with: the question alone, or prefixed by the last user turn
    when it is a follow-up (so "and what does Moscow want?" keeps the topic)."""
    previous = [t.content for t in history if t.role == "user" and t.content.strip()]
    if not previous or not is_follow_up(question):
        return question
    return f"{previous[-1].strip()} {question.strip()}"
