"""When to say "the article does not say".

Embedding similarity alone separates answerable from unanswerable questions poorly when
the unanswerable ones are on-topic ("What is China's position?" scores like a real
question). Four signals decide, each measured with the evaluation sets:

1. confidence: the best sentence score is below a calibrated threshold;
2. off-topic: a background of general sentences is clearly closer to the question than
   the best indexed sentence (``assistant.background``);
3. unknown names: the question names someone or something (a capitalised word) that no
   indexed passage mentions, allowing for English exonyms of Indonesian names;
4. missing answer type (``assistant.answer_types``): the best sentence cannot give the
   kind of answer asked for: a number (of the right kind, counting what is asked, in a
   passage about the names counted: "how many *German* soldiers"), a time or condition,
   a venue, or a person in a role.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from assistant.answer_types import (
    PLACE,
    TIME,
    asks_for_person,
    asks_for_place,
    counted_noun,
    counted_span,
    counts,
    names_a_person,
    numeric_type,
)

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
# Names of institutions are translated ("Council on Foreign Relations" is "Dewan Hubungan
# Luar Negeri"): a capitalised phrase joined by "of"/"on"/"for" counts as known when any
# of its words is. A possessive ends the phrase: "Council of Europe's Alain Berset".
_INSTITUTION = re.compile(
    r"[A-Z][\w-]*(?:\s+(?:of|on|for)\s+(?:the\s+)?[A-Z][\w-]*(?:\s+[A-Z][\w-]*)*)+")
# "Summarize the article" is about the text itself, however close to a generic request;
# "the latest news on fuel prices" is not.
_ABOUT_THE_TEXT = re.compile(
    r"\b(this|the) (article|text|story)\b|\bartikel\b|\b(teks|berita|tulisan) ini\b",
    re.IGNORECASE)
# Every exonym is a place or an institution: no personal name among them ("the": "The
# National" is a newspaper).
NOT_PEOPLE = frozenset({w for k, v in EXONYMS.items() for w in (k, *v)} | {"the"})


def names_in(question: str) -> list[str]:
    """Capitalised words that look like names (not sentence-initial, not question words)."""
    names = []
    for match in _WORD.finditer(question):
        base = re.sub(r"['’]s$", "", match.group())
        if not base[:1].isupper() or base.lower() in _NOT_NAMES:
            continue
        before = question[: match.start()].rstrip()
        initial = not before or before[-1] in ".?!"
        if initial and base.lower() not in EXONYMS and not base.isupper():
            continue  # a sentence-initial capital says nothing
        names.append(base)
    return names


class Vocabulary:
    """The words of some text (the indexed passages, or one passage) to check names in."""

    def __init__(self, texts: Iterable[str]) -> None:
        self.words = {w.lower() for text in texts for w in _WORD.findall(text)}
        self._sorted = sorted(self.words)

    def knows(self, name: str) -> bool:
        word = name.lower()
        if word in self.words or any(form in self.words for form in EXONYMS.get(word, ())):
            return True
        # Spelling variants across languages (Ukrainian/Ukraina, Crimea/Krimea).
        return bool(difflib.get_close_matches(word, self._sorted, n=1, cutoff=0.8))

    def unknown_names(self, question: str) -> list[str]:
        translated = {w for phrase in _INSTITUTION.findall(question)
                      if any(self.knows(w) for w in _WORD.findall(phrase))
                      for w in _WORD.findall(phrase)}
        unknown = [n for n in names_in(question) if n not in translated and not self.knows(n)]
        # An acronym beside a known name is usually a translated institution's ("the CFR
        # expert Liana Fiks": Dewan Hubungan Luar Negeri AS); alone ("what does the IMF
        # say?") it still counts.
        if any(_is_acronym(n) for n in unknown) and any(
                self.knows(w) for w in _capitalised(question)):
            unknown = [n for n in unknown if not _is_acronym(n)]
        return unknown


def _capitalised(text: str) -> list[str]:
    """Capitalised words anywhere, sentence-initial too ("... itu? Liana siapa gitu")."""
    return [w for w in _WORD.findall(text) if w[:1].isupper() and w.lower() not in _NOT_NAMES]


def _is_acronym(name: str) -> bool:
    return name.isupper() and 2 <= len(name) <= 5


@dataclass(frozen=True)
class Evidence:
    """A sentence chosen to answer, with the passage it comes from."""

    sentence: str
    passage: str


@dataclass(frozen=True)
class RefusalDecision:
    refuse: bool
    reason: str = ""
    # An off-topic question has no "closest passage" worth pointing the reader at.
    point_to_closest: bool = True


def decide(
    *,
    question: str,
    query: str,
    confidence: float,
    threshold: float,
    chosen: Sequence[Evidence],
    vocabulary: Vocabulary | None,
    topic_lead: float | None = None,
) -> RefusalDecision:
    """Whether to refuse, and why (the reason goes to logs and evaluation, not users).

    ``question`` is as asked (it says what kind of answer is wanted); ``query`` is the
    standalone query, with the previous turn for a follow-up (it says what names are
    meant). ``chosen`` is best first. ``topic_lead`` is how much closer the question is
    to the index than to the background, past the calibrated margin; negative refuses
    (None: no off-topic check).
    """
    if not chosen:
        return RefusalDecision(True, "nothing retrieved")
    if confidence < threshold:
        return RefusalDecision(True, f"confidence {confidence:.3f} < {threshold:.3f}")
    if topic_lead is not None and topic_lead < 0 and not _ABOUT_THE_TEXT.search(question):
        return RefusalDecision(True, f"off-topic: general text closer, by {-topic_lead:.3f} "
                                      "past the margin", point_to_closest=False)
    if vocabulary is not None:
        unknown = vocabulary.unknown_names(query)
        if unknown:
            return RefusalDecision(True, f"names not in the corpus: {', '.join(unknown)}")
    missing = _missing_answer_type(question, chosen)
    return RefusalDecision(True, missing) if missing else RefusalDecision(False)


def _missing_answer_type(question: str, chosen: Sequence[Evidence]) -> str:
    """Why the chosen sentences cannot give the kind of answer asked for, or ""."""
    best = chosen[0]
    numeric = numeric_type(question)
    if numeric is not None:
        # The best sentence must give it: a runner-up that happens to hold a number
        # ("800 ribu" for "how many US troops?") is usually about something else.
        if not numeric.given.search(best.sentence):
            return f"asks for a {numeric.name}; the best sentence gives none"
        context = Vocabulary([best.passage])
        counted = counted_span(question)
        absent = [n for n in names_in(question) if n in counted and not context.knows(n)]
        if absent:
            return f"asks for a {numeric.name} about {', '.join(absent)}; the passage is not"
        noun = counted_noun(question) if numeric.name == "number" else None
        if noun and not counts(best.sentence, noun):
            return f"counts {noun}; the number in the best sentence counts something else"
    joined = " ".join(e.sentence for e in chosen)
    if TIME.asked.search(question) and not TIME.given.search(joined):
        return "asks when; the passages give no time or condition"
    if asks_for_place(question) and not PLACE.given.search(best.sentence):
        return "asks for a place; the best sentence names none"
    if asks_for_person(question) and not names_a_person(best.sentence, NOT_PEOPLE):
        return "asks for a person; the best sentence names none"
    return ""
