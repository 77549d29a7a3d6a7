"""The few fixed phrases Tanya says, in the question's language."""

from __future__ import annotations

_FRAMING = {"en": "According to the article:", "id": "Menurut artikel:"}
_NOT_COVERED = {
    "en": "The article does not say.",
    "id": "Artikel tidak membahas hal itu.",
}
_CLOSEST = {
    "en": "The closest passage is in {where}, but it does not answer the question.",
    "id": "Bagian yang paling dekat ada di {where}, tetapi tidak menjawab pertanyaan ini.",
}
_WHERE = {"en": "paragraph {p}", "id": "paragraf {p}"}
_SECTION = {"en": '"{s}", paragraph {p}', "id": '"{s}", paragraf {p}'}


def _lang(lang: str) -> str:
    return lang if lang in _FRAMING else "en"


def framing(lang: str) -> str:
    return _FRAMING[_lang(lang)]


def refusal(lang: str, section: str | None = None, paragraph: int | None = None) -> str:
    """"The article does not say", optionally pointing at the closest passage."""
    lang = _lang(lang)
    text = _NOT_COVERED[lang]
    if paragraph is not None:
        where = (_SECTION[lang].format(s=section, p=paragraph) if section
                 else _WHERE[lang].format(p=paragraph))
        text = f"{text} {_CLOSEST[lang].format(where=where)}"
    return text


def is_refusal(text: str) -> bool:
    """True when ``text`` is (or starts with) Tanya's "the article does not say"."""
    head = text.strip().lower()
    return not head or any(head.startswith(p.lower().rstrip(".")) for p in _NOT_COVERED.values())
