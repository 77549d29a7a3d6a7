"""What kind of answer a question asks for, and whether a sentence can give it.

A reader who asks "how much would it cost?" is not answered by a sentence that holds
"800 ribu personel", nor "who is the US envoy?" by one that names no person. Standard
answer typing from question answering: a few patterns per type, in English and
Indonesian, checked against the sentence the extractive answerer ranks best.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_I = re.IGNORECASE


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
_NUMBER_TOKEN = re.compile(rf"\d[\d.,]*|{_NUMBER_WORDS}", _I)
_UNIT_OF_TIME = (r"\b(tahun|bulan|minggu|pekan|hari|jam|dekade|years?|months?|weeks?|days?|"
                 r"hours?|decades?)\b")

# Most specific first: the first type a question matches is the one checked.
_NUMERIC_TYPES = (
    # "Which article?" / "Pasal berapa?" ask for an ordinal ("Pasal Kelima").
    AnswerType("ordinal", re.compile(r"\b(pasal berapa|ke-?berapa|which article|what article)\b",
                                     _I),
               re.compile(r"\d|\b(pertama|kedua|ketiga|keempat|kelima|keenam|first|second|"
                          r"third|fourth|fifth|sixth)\b", _I)),
    AnswerType("percentage",
               re.compile(r"\b(what share|what proportion|what percentage|what per ?cent|"
                          r"berapa persen|persentase|proporsi)\b", _I),
               re.compile(r"%|\b(persen|per ?cent|percent)\b", _I)),
    AnswerType("money",
               re.compile(r"\b(how much|berapa)\b.*\b(cost|costs|budget|price|spend|spent|"
                          r"funds?|funding|dollars?|euros?|biaya|anggaran|dana|harga|dolar|"
                          r"euro)\b|\b(cost|budget|biaya|anggaran)\b.*\b(how much|berapa)\b",
                          _I),
               re.compile(r"[$€£]|\b(dolar|dollars?|euros?|usd|eur|rupiah|rp|pound)\b", _I)),
    AnswerType("duration",
               re.compile(r"\b(how long|how many (years|months|weeks|days)|berapa lama|"
                          r"berapa (tahun|bulan|minggu|pekan|hari))\b", _I),
               re.compile(rf"({_NUMBER}).{{0,40}}{_UNIT_OF_TIME}", _I)),
    AnswerType("number",
               re.compile(r"\b(how many|how much|how large|how big|what number|berapa|"
                          r"jumlah)\b", _I),
               re.compile(_NUMBER, _I)),
)

TIME = AnswerType(
    "time",
    re.compile(r"^\s*(when|kapan)\b|\b(what date|which date|what year|which year|"
               r"tanggal berapa|tahun berapa|pada tanggal|sejak kapan)\b", _I),
    # "When would Russia accept?" is answered by a condition ("hanya jika ...") too.
    re.compile(r"\d{4}|\b(jika|apabila|setelah|sebelum|sampai|hingga|ketika|saat|sejak|"
               r"selama|tahun|bulan|minggu|hari|januari|februari|maret|april|mei|juni|juli|"
               r"agustus|september|oktober|november|desember|if|after|before|until|when|"
               r"since|year|month|week|day)\b", _I),
)

# "Berapa negara ...?" counts countries: the number in the answer must count them too
# ("800 ribu personel" counts personnel). Indonesian only: an English question's noun
# ("how many countries") cannot be compared with Indonesian text without a translation.
_COUNTED_ID = re.compile(r"\b(?:berapa|jumlah)\s+(?:banyak\s+|jumlah\s+|orang\s+)?([a-z]+)", _I)
_NOT_COUNTED = frozenset(
    "banyak jumlah besar luas lama jauh kali persen tahun bulan minggu pekan hari jam "
    "biaya anggaran dana harga yang sih ya kah".split())
_WORDS_AFTER_NUMBER = 3


def counted_noun(question: str) -> str | None:
    """The noun an Indonesian "berapa ..." question counts, if it names one."""
    match = _COUNTED_ID.search(question)
    if not match or match.group(1).lower() in _NOT_COUNTED:
        return None
    return match.group(1).lower()


def counts(sentence: str, noun: str) -> bool:
    """Whether ``noun`` follows a number in ``sentence`` within a few words."""
    words = re.findall(r"\w+", sentence.lower())
    return any(noun in words[i + 1 : i + 1 + _WORDS_AFTER_NUMBER]
               for i, word in enumerate(words) if _NUMBER_TOKEN.fullmatch(word))


# A question for a venue ("in which city", "where are the talks held"), not any "where"
# ("where does Giles work?" asks for an institution).
PLACE = AnswerType(
    "place",
    re.compile(r"\b(which|what) (city|town|capital|venue)\b|"
               r"\bwhere\b.*\b(held|hold|take place|taking place|located|meet|meeting)\b|"
               r"\b(kota|tempat) mana\b|\bdi ?mana\b.*\b(berlangsung|digelar|diadakan|"
               r"bertemu)\b", _I),
    # A locative preposition before a capitalised word: "di Berlin", "in Paris".
    re.compile(r"\b(?:[Dd]i|[Ii]n|[Aa]t)\s+[A-Z]\w+"),
)

# "Who is the envoy?" asks for a person; "who must approve it?" may be answered by an
# institution, so only questions that name a personal role are checked.
_PERSON_ROLE_Q = re.compile(
    r"\b(who|which|siapa)\b.*\b(envoy|secretary[- ]general|president|prime minister|"
    r"minister|ambassador|spokes(man|woman|person)|negotiator|mediator|chancellor|"
    r"utusan|sekretaris jenderal|presiden|perdana menteri|menteri|duta besar|"
    r"juru bicara|negosiator|mediator|kanselir)\b", _I)
_CAPITALISED_RUN = re.compile(r"(?<![.!?]\s)(?<!^)\b([A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)+)")


def numeric_type(question: str) -> AnswerType | None:
    """The numeric kind of answer the question asks for, if any."""
    return next((t for t in _NUMERIC_TYPES if t.asked.search(question)), None)


def asks_for_place(question: str) -> bool:
    return bool(PLACE.asked.search(question))


def asks_for_person(question: str) -> bool:
    return bool(_PERSON_ROLE_Q.search(question))


def names_a_person(sentence: str, not_people: Sequence[str]) -> bool:
    """Whether the sentence holds a personal name: two or more capitalised words, not at
    the start, at least two of which are not place or institution words."""
    excluded = {w.lower() for w in not_people} | {"the"}  # "The National" is a newspaper
    for run in _CAPITALISED_RUN.findall(sentence):
        words = [w for w in run.split() if w.lower() not in excluded]
        if len(words) >= 2:
            return True
    return False
