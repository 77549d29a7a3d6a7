"""When to say "the article does not say".

Embedding similarity alone separates answerable from unanswerable questions poorly when
the unanswerable ones are on-topic ("What is China's position?" scores like a real
question). Three signals decide, each measured with the evaluation set:

1. confidence: the best sentence score is below a calibrated threshold;
2. unknown names: the question names someone or something (a capitalised word) that no
   indexed passage mentions, allowing for English exonyms of Indonesian names;
3. missing answer type: "how many"/"berapa" questions whose chosen sentences hold no
   number, "when"/"kapan" questions whose chosen sentences hold no time or condition.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_WORD = re.compile(r"[^\W\d_][\w'’-]*", re.UNICODE)

# English (and common alternative) names -> forms an Indonesian text uses. General
# geography and institutions, not facts about any article.
EXONYMS: dict[str, tuple[str, ...]] = {
    "us": ("as", "amerika"), "usa": ("as", "amerika"), "america": ("amerika",),
    "american": ("amerika",), "americans": ("amerika",), "washington": ("washington",),
    "eu": ("ue", "uni"), "europe": ("eropa",), "european": ("eropa",),
    "europeans": ("eropa",), "west": ("barat",), "western": ("barat",),
    "germany": ("jerman",), "german": ("jerman",), "germans": ("jerman",),
    "russia": ("rusia",), "russian": ("rusia",), "russians": ("rusia",),
    "moscow": ("moskwa", "moskow"), "ukraine": ("ukraina",), "ukrainian": ("ukraina",),
    "ukrainians": ("ukraina",), "kiev": ("kyiv", "kiev"), "crimea": ("krimea",),
    "china": ("tiongkok", "cina", "china"), "chinese": ("tiongkok", "cina"),
    "turkey": ("turki",), "turkish": ("turki",), "poland": ("polandia",),
    "polish": ("polandia",), "france": ("prancis", "perancis"), "french": ("prancis",),
    "britain": ("inggris", "britania"), "british": ("inggris",), "uk": ("inggris",),
    "england": ("inggris",), "japan": ("jepang",), "netherlands": ("belanda",),
    "congress": ("kongres",), "senate": ("senat",), "kremlin": ("kremlin",),
    "article": ("pasal",), "chancellor": ("kanselir",), "council": ("dewan",),
    "nato": ("nato",), "un": ("pbb",), "united": ("serikat", "bersatu"),
    "states": ("serikat",), "nations": ("bangsa",), "pentagon": ("pentagon",),
}
# Capitalised words that are not names: question words, pronouns, sentence openers.
_NOT_NAMES = frozenset(
    """what who whom whose why how when where which does do did is are was were will would
    could should can may might according the a an and or but if in on at of to for with
    by from about as so also even then this that these those it its he she they i you we
    my our your his her their there here has have had be been not no yes please tell
    apa siapa mengapa kenapa bagaimana kapan dimana mana berapa apakah yang menurut dan
    atau tetapi namun jika kalau ke dari untuk dengan oleh pada dalam tentang sebagai ini
    itu dia ia mereka kami kita saya anda lalu sedangkan juga benarkah adakah""".split()
)
_NUMBER_Q = re.compile(
    r"\b(how many|how much|what number|what percentage|berapa|jumlah)\b", re.IGNORECASE)
# "Which article?" / "Pasal berapa?" ask for an ordinal ("Pasal Kelima").
_ORDINAL_Q = re.compile(r"\b(pasal berapa|ke-?berapa|which article|what article)\b", re.IGNORECASE)
_ORDINAL = re.compile(r"\b(pertama|kedua|ketiga|keempat|kelima|keenam|first|second|third|"
                      r"fourth|fifth|sixth)\b", re.IGNORECASE)
_TIME_Q = re.compile(
    r"^\s*(when|kapan)\b|\b(what date|which date|what year|which year|tanggal berapa|"
    r"tahun berapa|pada tanggal)\b", re.IGNORECASE)
_NUMBER = re.compile(
    r"\d|\b(satu|dua|tiga|empat|lima|enam|tujuh|delapan|sembilan|sepuluh|sebelas|puluh|"
    r"belas|ratus|ribu|juta|miliar|triliun|separuh|setengah|"
    r"one|two|three|four|five|six|seven|eight|nine|ten|hundred|thousand|million|billion)\b",
    re.IGNORECASE)
_TIME_OR_CONDITION = re.compile(
    r"\d{4}|\b(jika|apabila|hanya jika|setelah|sebelum|sampai|hingga|ketika|saat|sejak|"
    r"selama|tahun|bulan|minggu|hari|januari|februari|maret|april|mei|juni|juli|agustus|"
    r"september|oktober|november|desember|if|after|before|until|when|since|year|month|"
    r"week|day)\b", re.IGNORECASE)


def names_in(question: str) -> list[str]:
    """Capitalised words that look like names (not the first word, not question words)."""
    words = _WORD.findall(question)
    names = []
    for i, word in enumerate(words):
        base = re.sub(r"['’]s$", "", word)
        if not base[:1].isupper() or base.lower() in _NOT_NAMES:
            continue
        if i == 0 and base.lower() not in EXONYMS and not base.isupper():
            continue  # a sentence-initial capital says nothing
        names.append(base)
    return names


class Vocabulary:
    """The words of the indexed passages, for the unknown-name check."""

    def __init__(self, texts: Iterable[str]) -> None:
        self.words = {w.lower() for text in texts for w in _WORD.findall(text)}
        self._sorted = sorted(self.words)

    def knows(self, name: str) -> bool:
        word = name.lower()
        if word in self.words:
            return True
        if any(form in self.words for form in EXONYMS.get(word, ())):
            return True
        # Spelling variants across languages (Ukrainian/Ukraina, Crimea/Krimea).
        return bool(difflib.get_close_matches(word, self._sorted, n=1, cutoff=0.8))

    def unknown_names(self, question: str) -> list[str]:
        return [n for n in names_in(question) if not self.knows(n)]


@dataclass(frozen=True)
class RefusalDecision:
    refuse: bool
    reason: str = ""


def decide(
    question: str,
    confidence: float,
    threshold: float,
    chosen_texts: Sequence[str],
    vocabulary: Vocabulary | None,
) -> RefusalDecision:
    """Whether to refuse, and why (the reason goes to logs and evaluation, not users)."""
    if not chosen_texts:
        return RefusalDecision(True, "nothing retrieved")
    if confidence < threshold:
        return RefusalDecision(True, f"confidence {confidence:.3f} < {threshold:.3f}")
    if vocabulary is not None:
        unknown = vocabulary.unknown_names(question)
        if unknown:
            return RefusalDecision(True, f"names not in the corpus: {', '.join(unknown)}")
    joined = " ".join(chosen_texts)
    wants_ordinal = _ORDINAL_Q.search(question) and _ORDINAL.search(joined)
    if _NUMBER_Q.search(question) and not (_NUMBER.search(joined) or wants_ordinal):
        return RefusalDecision(True, "asks for a number; the passages give none")
    if _TIME_Q.search(question) and not _TIME_OR_CONDITION.search(joined):
        return RefusalDecision(True, "asks when; the passages give no time or condition")
    return RefusalDecision(False)
