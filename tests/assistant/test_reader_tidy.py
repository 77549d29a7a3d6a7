"""An answer span is shown first in the answer: no half quotations, no dangling marks."""

from __future__ import annotations

import pytest

from assistant.reader.tidy import REACH, tidy_span


def _tidied(text: str, span: str) -> str:
    start = text.index(span)
    s, e = tidy_span(text, start, start + len(span))
    return text[s:e]


@pytest.mark.parametrize(("text", "span", "shown"), [
    # A quotation the span opens is completed when it closes in the same sentence.
    ('menuntut pengakuan "kenyataan saat ini" sebagai syarat', 'pengakuan "kenyataan',
     'pengakuan "kenyataan saat ini"'),
    ("menuntut pengakuan \u201ckenyataan saat ini\u201d sebagai", "pengakuan \u201ckenyataan",
     "pengakuan \u201ckenyataan saat ini\u201d"),
    # One it closes is opened, from the sentence before the span.
    ('kata "ya" dan "tidak" saja', 'ya" dan "tidak"', '"ya" dan "tidak"'),
    ("lembaga (Bulog) itu", "Bulog)", "(Bulog)"),
    # Commas, colons and dashes at the edges go; inner ones and hyphens stay.
    ("Memorandum Budapest 1994, dan", "Budapest 1994,", "Budapest 1994"),
    ("the director \u2014 Widjanarko Puspoyo \u2014 said", "\u2014 Widjanarko Puspoyo \u2014",
     "Widjanarko Puspoyo"),
    ('he said "no", then left', '"no",', '"no"'),
    ("an anti-war march, 3-4 May", "anti-war march, 3-4 May", "anti-war march, 3-4 May"),
    ("suhu turun ke -5 derajat", "-5 derajat", "-5 derajat"),  # a minus sign stays
    # A mark outside the span that belongs to another quotation is left alone.
    ('"Kami menolak "ultimatum" itu," kata dia', 'itu," kata dia', 'itu," kata dia'),
    ("lihat (A) dan 2) B", "2) B", "2) B"),
    ('dia "setuju" lalu "menolak keras" semuanya', 'setuju" lalu', '"setuju" lalu'),
    ("lihat (A dan (B) C", "(A dan", "A dan"),  # the next mark opens another: not taken
    # Quotes spaced on both sides (a newsroom style) may close.
    ('judul lagu " Jujur " itu', 'lagu " Jujur', 'lagu " Jujur "'),
    # The sentence keeps its full stop; abbreviations and ellipses keep their points.
    ("48 perjalanan per hari mulai 1 Juli 2024. Kereta", "1 Juli 2024.", "1 Juli 2024"),
    ("kata Budi Santoso, S.H. kepada", "Budi Santoso, S.H.", "Budi Santoso, S.H."),
    ("Rusia menginginkan apa yang mereka inginkan...", "mereka inginkan...",
     "mereka inginkan..."),
    ('dia berkata "cukup." lalu pergi', '"cukup."', '"cukup."'),
    ("harganya Rp 1.500.000. Pembeli", "Rp 1.500.000.", "Rp 1.500.000."),
    ("sebanyak 1.500 orang", "sebanyak 1.", "sebanyak 1."),  # inside a number: no sentence end
    ("berakhir pukul 10.00. Lalu", "pukul 10.00.", "pukul 10.00."),
    ('ditutup "tahun 1998." kata', "tahun 1998.", "tahun 1998"),
    # A balanced span is left as it is.
    ('he said "no" twice', 'said "no" twice', 'said "no" twice'),
])
def test_spans_are_shown_whole(text: str, span: str, shown: str) -> None:
    assert _tidied(text, span) == shown


def test_a_quotation_is_not_completed_past_its_sentence_or_reach() -> None:
    # Closing mark beyond REACH: the dangling opening mark on the edge is dropped.
    far = '"a quotation ' + "x" * REACH + '" end'
    assert _tidied(far, '"a quotation') == "a quotation"
    # Closing mark in the next sentence: the span stays in its own (the cited one).
    text = 'Dia menuntut "pengakuan. Lalu pergi" kemarin'
    assert _tidied(text, 'menuntut "pengakuan') == 'menuntut "pengakuan'


def test_offsets_stay_inside_the_text_and_a_span_is_never_emptied() -> None:
    text = "a , b"
    assert tidy_span(text, 2, 3) == (2, 3)  # only a comma: left as it was
    assert tidy_span(text, 3, 3) == (3, 3)  # empty stays empty
    assert tidy_span('"x', 0, 2) == (1, 2)  # the mark at the text's very end
