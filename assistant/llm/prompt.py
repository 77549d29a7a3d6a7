"""Chat messages for an LLM answerer: rules, recent history, fenced passages, question."""

from __future__ import annotations

import html
import itertools
import re
from collections.abc import Sequence
from string import Template

from assistant.citations import MARKER
from assistant.phrases import refusal
from assistant.types import Passage, Turn
from prompts import load_prompt

Message = dict[str, str]

HISTORY_EXCHANGES = 3
_LANGUAGE = {"en": "English", "id": "Indonesian (Bahasa Indonesia)"}
# "<passage", "</passage", "< / PASSAGE": anything that could open or close a fence.
_FENCE_TAG = re.compile(r"<(\s*/?\s*passage)", re.IGNORECASE)


def build_messages(
    question: str, lang: str, history: Sequence[Turn], passages: Sequence[Passage]
) -> list[Message]:
    """System rules, the last few exchanges, then passages and the question."""
    words = {
        "language": _LANGUAGE.get(lang, "the language of the question"),
        "refusal": refusal(lang),
    }
    messages = [{"role": "system", "content": _render("answer_system", **words)}]
    for asked, answered in recent_exchanges(history):
        messages.append({"role": "user", "content": asked})
        # Old [n] markers point at passages of an earlier retrieval; the model would reuse them.
        messages.append({"role": "assistant", "content": _strip_markers(answered)})
    messages.append(
        {
            "role": "user",
            "content": _render(
                "answer_user",
                passages=fence_passages(passages),
                question=neutralise(question),
                **words,
            ),
        }
    )
    return messages


def fence_passages(passages: Sequence[Passage]) -> str:
    """Each passage inside ``<passage n=...>...</passage>``, unable to close its fence."""
    return "\n\n".join(
        f'<passage n="{p.rank}" title="{_attr(p.title)}" section="{_attr(p.section)}" '
        f'paragraph="{p.paragraph}">\n{neutralise(p.text)}\n</passage>'
        for p in passages
    )


def neutralise(text: str) -> str:
    """Escape anything that looks like a passage tag, so text cannot fake or end a fence."""
    return _FENCE_TAG.sub(r"&lt;\1", text)


def recent_exchanges(history: Sequence[Turn]) -> list[tuple[str, str]]:
    """The last few complete (question, answer) pairs. Chat templates of many local
    models insist on strict user/assistant alternation, so unpaired turns are left out."""
    pairs: list[tuple[str, str]] = []
    for before, after in itertools.pairwise(history):
        if before.role == "user" and after.role == "assistant":
            pairs.append((neutralise(before.content), neutralise(after.content)))
    return pairs[-HISTORY_EXCHANGES:]


def _strip_markers(text: str) -> str:
    text = re.sub(r"[ \t]+([.,;:!?])", r"\1", MARKER.sub("", text))
    return re.sub(r"[ \t]{2,}", " ", text).strip()


def _attr(value: str) -> str:
    return html.escape(value, quote=True)


def _render(name: str, **values: str) -> str:
    return Template(load_prompt(name)).substitute(values).strip()
