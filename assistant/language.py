"""Which language a question is in: English, Indonesian, or something else.

Latin-script text is told apart by a naive Bayes model over the character 1-4-grams of
its words, learned from news questions in both languages (``assistant/language.json``,
built by ``python -m assistant.language_train``): no word list, so a question with no
common function word ("Tanggal berapakah ulang tahun Kota Bandung") is still placed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path

MODEL_PATH = Path(__file__).with_name("language.json")
#: The languages Tanya answers in (anything else is "other").
ANSWER_LANGUAGES = ("en", "id")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def grams(text: str, longest: int) -> list[str]:
    """The character 1..``longest``-grams of each lower-cased word, padded by spaces so
    that beginnings and endings count ("-kah ", " the ")."""
    out = []
    for word in _WORD.findall(text.lower()):
        padded = f" {word} "
        for n in range(1, longest + 1):
            out += [padded[i:i + n] for i in range(len(padded) - n + 1)]
    return out


class LanguageModel:
    """English against Indonesian: the sum of the n-grams' log-likelihood ratios."""

    def __init__(self, weights: Mapping[str, float], longest: int) -> None:
        self.weights, self.longest = weights, longest

    def lead(self, text: str) -> float:
        """The log-likelihood ratio of English over Indonesian (0 for nothing known)."""
        return sum(self.weights.get(g, 0.0) for g in grams(text, self.longest))

    def detect(self, text: str, context: Sequence[str] = ()) -> str:
        """``en`` or ``id``; ``en`` when nothing known is in the text. ``context`` (the
        previous question of a conversation) counts as more text in the same language,
        so a follow-up with little of its own ("Dan Moskow?") takes the conversation's,
        while one with a language of its own ("And what does Moscow want?") keeps it."""
        lead = self.lead(text) + sum(self.lead(c) for c in context)
        return "id" if lead < 0 else "en"


@lru_cache(maxsize=1)
def shipped_model() -> LanguageModel:
    """The model ``assistant/language.json`` holds (read once)."""
    data = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    return LanguageModel(data["weights"], int(data["longest"]))


def detect_language(text: str, context: Sequence[str] = ()) -> str:
    """``en``, ``id`` or ``other`` (text without letters, or mostly in another script);
    Latin-script text with no known n-gram is ``en``. ``context``: see
    ``LanguageModel.detect``."""
    words = _WORD.findall(text)
    if not words:
        return "other"
    latin = sum(1 for w in words if w.isascii())
    if latin < len(words) / 2:
        return "other"
    return shipped_model().detect(text, context)


def conversation_language(question: str, turns: Iterable[tuple[str, str]]) -> str:
    """``detect_language`` of a question asked after ``turns`` ((role, content), oldest
    first): read with the last earlier user question."""
    earlier = [content for role, content in turns if role == "user"][-1:]
    return detect_language(question, earlier)
