"""What kind of answer a question asks for, and whether a sentence can give it.

A reader who asks "how much would it cost?" is not answered by a sentence that holds
"800 ribu personel", nor "who is the US envoy?" by one that names no person. Standard
answer typing from question answering: a few patterns per type, in English and
Indonesian, checked against the sentence the extractive answerer ranks best. The
patterns stay narrow on purpose: a type that fires wrongly refuses a real question.
"""

from __future__ import annotations

import re
from collections.abc import Set
from dataclasses import dataclass

_NOCASE = re.IGNORECASE


@dataclass(frozen=True)
class AnswerType:
    """A kind of answer: how a question asks for it, and how a sentence gives it."""

    name: str
    asked: re.Pattern[str]
    given: re.Pattern[str]


_NUMBER_WORDS = (r"satu|dua|tiga|empat|lima|enam|tujuh|delapan|sembilan|sepuluh|sebelas|"
                 r"puluh|belas|ratus|ribu|juta|miliar|triliun|separuh|setengah|one|two|"
                 r"three|four|five|six|seven|eight|nine|ten|hundred|thousand|million|billion")
_NUMBER = rf"\d|\b({_NUMBER_WORDS})\b"
_NUMBER_TOKEN = re.compile(rf"\d[\d.,]*|{_NUMBER_WORDS}", _NOCASE)
_UNIT_OF_TIME = (r"\b(tahun|bulan|minggu|pekan|hari|jam|dekade|years?|months?|weeks?|days?|"
                 r"hours?|decades?)\b")
# "Berapa besar/jauh peran Eropa?" asks "how big/far", a degree, not a number.
_BERAPA = r"berapa(?!\s+(besar|jauh|penting|kuat|serius|efektif|sering|cepat)\b)"
# A count; what follows it names what is counted (``counted_span``).
_COUNT_Q = re.compile(rf"\b(how many|what number( of)?|{_BERAPA}|jumlah)\b", re.IGNORECASE)

# Most specific first: the first type a question matches is the one checked.
_NUMERIC_TYPES = (
    # "Which article?" / "Pasal berapa?" ask for an ordinal ("Pasal Kelima").
    AnswerType("ordinal",
               re.compile(r"\b(pasal berapa|ke-?berapa|which article|what article)\b", _NOCASE),
               re.compile(r"\d|\b(pertama|kedua|ketiga|keempat|kelima|keenam|first|second|"
                          r"third|fourth|fifth|sixth)\b", _NOCASE)),
    AnswerType("percentage",
               re.compile(r"\b(what share|what proportion|what percentage|what per ?cent|"
                          r"berapa persen|persentase|proporsi)\b", _NOCASE),
               re.compile(r"%|\b(persen|per ?cent|percent)\b", _NOCASE)),
    AnswerType("money",
               # "Berapa besar anggaran" is an amount: money words make it one.
               re.compile(r"\b(how much|berapa)\b.*\b(cost|costs|budget|price|spend|spent|"
                          r"funds?|funding|money|dollars?|euros?|biaya|anggaran|dana|harga|"
                          r"uang|dolar|euro)\b|\b(cost|budget|biaya|anggaran)\b.*"
                          r"\b(how much|berapa)\b", _NOCASE),
               re.compile(r"[$€£]|\b(dolar|dollars?|euros?|usd|eur|rupiah|rp|pound)\b", _NOCASE)),
    AnswerType("duration",
               re.compile(r"\b(how long|how many (years|months|weeks|days)|berapa lama|"
                          r"berapa (tahun|bulan|minggu|pekan|hari))\b", _NOCASE),
               re.compile(rf"({_NUMBER}).{{0,40}}{_UNIT_OF_TIME}", _NOCASE)),
    # Not "how much"/"how big": "how much would Ukraine depend on ...?" asks a degree.
    AnswerType("number", _COUNT_Q, re.compile(_NUMBER, _NOCASE)),
)

TIME = AnswerType(
    "time",
    re.compile(r"^\s*(when|kapan)\b|\b(what date|which date|what year|which year|"
               r"tanggal berapa|tahun berapa|pada tanggal|sejak kapan)\b", _NOCASE),
    # "When would Russia accept?" is answered by a condition ("hanya jika ...") too.
    re.compile(r"\d{4}|\b(jika|apabila|setelah|sebelum|sampai|hingga|ketika|saat|sejak|"
               r"selama|tahun|bulan|minggu|hari|januari|februari|maret|april|mei|juni|juli|"
               r"agustus|september|oktober|november|desember|if|after|before|until|when|"
               r"since|year|month|week|day)\b", _NOCASE),
)

# A venue ("in which city", "where are the talks held"), not any "where": "where does
# Giles work?" asks for an institution.
PLACE = AnswerType(
    "place",
    re.compile(r"\b(which|what) (city|town|capital|venue)\b|"
               r"\bwhere\b.*\b(held|hold|take place|taking place|located|meet|meeting)\b|"
               r"\b(kota|tempat) mana\b|\bdi ?mana\b.*\b(berlangsung|digelar|diadakan|"
               r"bertemu)\b", _NOCASE),
    # A locative preposition before a capitalised word: "di Berlin", "in Paris".
    re.compile(r"\b(?:[Dd]i|[Ii]n|[Aa]t)\s+[A-Z]\w+"),
)

# "Who is the envoy?" asks for a person; "who must approve it?" may be answered by an
# institution, so only a question whose subject is a personal role is checked: the role
# right after "who (is)"/"siapa" or "which".
_ROLES = (r"envoy|secretary[- ]general|president|prime minister|minister|ambassador|"
          r"spokes(?:man|woman|person)|negotiator|mediator|chancellor|utusan|"
          r"sekretaris jenderal|presiden|perdana menteri|menteri|duta besar|juru bicara|"
          r"negosiator|kanselir")
_PERSON_ROLE_Q = re.compile(
    rf"^\s*(?:who|siapa)\b(?:\s+(?:is|was|will be|would be|are))?(?:\s+the)?"
    rf"(?:\s+[\w'’-]+){{0,2}}?\s+(?:{_ROLES})\b|\bwhich\s+(?:[\w'’-]+\s+)?(?:{_ROLES})\b",
    _NOCASE)
_CAPITALISED_RUN = re.compile(r"(?<![.!?]\s)(?<!^)\b([A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)+)")

# "Berapa negara ...?" counts countries: the number in the answer must count them too
# ("800 ribu personel" counts personnel). Indonesian only: an English question's noun
# ("how many countries") cannot be compared with Indonesian text without a translation.
_COUNTED_ID = re.compile(
    r"(?<!tahun )(?<!tanggal )(?<!pukul )(?<!pasal )\b(?:berapa|jumlah)\s+"
    r"(?:banyak\s+|jumlah\s+)?([a-z]+)", _NOCASE)
_NOT_COUNTED = frozenset(
    "banyak jumlah besar luas lama jauh kali persen tahun bulan minggu pekan hari jam "
    "biaya anggaran dana harga yang sih ya kah di dari antara saja pun lagi".split())
# Words a count may use for the same thing ("berapa tentara" / "800 ribu personel").
_SAME_COUNT = (frozenset("tentara pasukan personel prajurit serdadu".split()),
               frozenset("orang jiwa warga penduduk".split()))
_WORDS_AFTER_NUMBER = 3
# How far after "how many"/"berapa" a name belongs to what is counted.
_COUNTED_SPAN = 4


def numeric_type(question: str) -> AnswerType | None:
    """The numeric kind of answer the question asks for, if any."""
    return next((t for t in _NUMERIC_TYPES if t.asked.search(question)), None)


def counted_span(question: str) -> str:
    """The few words after "how many"/"berapa": where the counted thing is named."""
    match = _COUNT_Q.search(question)
    if not match:
        return ""
    return " ".join(question[match.end():].split()[:_COUNTED_SPAN])


def asks_for_place(question: str) -> bool:
    """Whether the question asks for a venue."""
    return bool(PLACE.asked.search(question))


def asks_for_person(question: str) -> bool:
    """Whether the question asks who holds a personal role (envoy, minister, ...)."""
    return bool(_PERSON_ROLE_Q.search(question))


def names_a_person(sentence: str, not_people: Set[str]) -> bool:
    """Whether the sentence holds a personal name: two or more capitalised words, not at
    the start, at least two of which are not in ``not_people`` (lower-case place and
    institution words). A heuristic: "Memorandum Budapest" passes too."""
    for run in _CAPITALISED_RUN.findall(sentence):
        words = [w for w in run.split() if w.lower() not in not_people]
        if len(words) >= 2:
            return True
    return False


def counted_noun(question: str) -> str | None:
    """The noun an Indonesian "berapa ..." question counts, if it names one."""
    match = _COUNTED_ID.search(question)
    if not match or match.group(1).lower() in _NOT_COUNTED:
        return None
    return match.group(1).lower()


def counts(sentence: str, noun: str) -> bool:
    """Whether ``noun`` (or a word for the same thing) follows a number in ``sentence``
    within a few words."""
    nouns = next((group for group in _SAME_COUNT if noun in group), frozenset([noun]))
    words = re.findall(r"\w+", sentence.lower())
    return any(nouns.intersection(words[i + 1 : i + 1 + _WORDS_AFTER_NUMBER])
               for i, word in enumerate(words) if _NUMBER_TOKEN.fullmatch(word))
