"""The refusal decision: names, answer types and confidence, without a model."""

from __future__ import annotations

import pytest

from assistant.answer_types import names_a_person, numeric_type
from assistant.refusal import NOT_PEOPLE, Evidence, Vocabulary, decide, names_in

ARMY = Evidence(
    "Di antara langkah yang dibahas adalah keterlibatan UE dalam mempertahankan angkatan "
    "bersenjata Ukraina hingga 800 ribu personel.",
    "Negara-negara Eropa mendukung konsep penguatan jaminan keamanan bagi Ukraina. Di antara "
    "langkah yang dibahas adalah keterlibatan UE dalam mempertahankan angkatan bersenjata "
    "Ukraina hingga 800 ribu personel.")
OFFER = Evidence(
    "Amerika Serikat menawarkan kepada Ukraina sistem jaminan keamanan yang dapat "
    "dibandingkan dengan Pasal Kelima piagam NATO.",
    "Amerika Serikat menawarkan kepada Ukraina sistem jaminan keamanan yang dapat "
    "dibandingkan dengan Pasal Kelima piagam NATO.")
MERZ = Evidence(
    "Kanselir Jerman Friedrich Merz menyebut perkembangan ini sebagai pergeseran diplomatik.",
    "Kanselir Jerman Friedrich Merz menyebut perkembangan ini sebagai pergeseran diplomatik.")
BERLIN = Evidence(
    "Di Berlin ada kekhawatiran bahwa UE dapat terseret ke konfrontasi langsung dengan Rusia.",
    "Di Berlin ada kekhawatiran bahwa UE dapat terseret ke konfrontasi langsung dengan Rusia.")
VOCABULARY = Vocabulary([ARMY.passage, OFFER.passage, MERZ.passage, BERLIN.passage,
                         "Dewan Hubungan Luar Negeri AS Liana Fiks mencatat."])


def refused(question: str, *chosen: Evidence, confidence: float = 0.9) -> str:
    decision = decide(question, question, confidence, 0.8, list(chosen), VOCABULARY)
    return decision.reason if decision.refuse else ""


def test_a_number_question_needs_the_number_in_the_best_sentence() -> None:
    assert refused("How big an army would the EU help Ukraine keep?", ARMY, OFFER) == ""
    # The runner-up holds a number, but the best sentence is about something else.
    assert "number" in refused("How many US troops would be deployed?", OFFER, ARMY)


def test_a_number_question_needs_the_names_it_counts_in_the_passage() -> None:
    assert "Jerman" in refused("Berapa tentara Jerman yang akan dikirim ke Ukraina?", ARMY)
    assert "German" in refused("How many German soldiers would go to Ukraine?", ARMY)


@pytest.mark.parametrize(
    ("question", "kind"),
    [("How much would the package cost in dollars?", "money"),
     ("Berapa anggaran yang disiapkan UE untuk Ukraina?", "money"),
     ("What share of Ukrainians support a deal?", "percentage"),
     ("How long would the transition period last?", "duration"),
     ("Berapa tahun masa transisinya?", "duration"),
     ("Pasal berapa yang dijadikan pembanding?", "ordinal"),
     ("How many soldiers does Ukraine have?", "number")])
def test_numeric_questions_are_typed(question: str, kind: str) -> None:
    found = numeric_type(question)
    assert found is not None and found.name == kind


def test_a_number_of_the_wrong_kind_does_not_answer() -> None:
    assert "money" in refused("Berapa anggaran yang disiapkan UE untuk Ukraina?", ARMY)
    assert "duration" in refused("How long would Ukraine keep 800 thousand troops?", ARMY)
    assert refused("Pasal berapa dari piagam NATO yang dijadikan pembanding?", OFFER) == ""


def test_a_venue_question_needs_a_place_and_other_where_questions_do_not() -> None:
    assert "place" in refused("Di kota mana perundingan itu berlangsung?", OFFER)
    assert refused("In which city is there concern about a confrontation?", BERLIN) == ""
    assert refused("Where does the offer come from?", OFFER) == ""


def test_a_question_for_a_person_in_a_role_needs_a_personal_name() -> None:
    assert "person" in refused("Siapa utusan khusus AS yang memimpin perundingan?", OFFER)
    assert refused("Who is the German chancellor?", MERZ) == ""
    # Who-questions without a personal role may be answered by a country.
    assert refused("Who would protect Ukraine?", OFFER) == ""


def test_people_are_told_from_places_and_newspapers() -> None:
    assert names_a_person(MERZ.sentence, NOT_PEOPLE)
    assert not names_a_person(OFFER.sentence, NOT_PEOPLE)
    assert not names_a_person('"Ditolak," kata dia kepada The National.', NOT_PEOPLE)


def test_unknown_names_and_translated_institutions() -> None:
    assert "Biden" in refused("What is Joe Biden's view?", OFFER)
    assert refused("What does the Council on Foreign Relations expert say?", OFFER) == ""
    # Words after a full stop are sentence-initial, not names (a follow-up's query).
    assert names_in("How big is the army? Selain itu, apa lagi?") == []


def test_low_confidence_and_nothing_retrieved_refuse() -> None:
    assert "confidence" in refused("What does Kyiv demand?", OFFER, confidence=0.5)
    assert refused("What does Kyiv demand?") == "nothing retrieved"


def test_the_kind_of_answer_comes_from_the_question_as_asked() -> None:
    """A follow-up's standalone query carries the previous question's "how big"."""
    decision = decide("What else is Europe considering?",
                      "How big an army would the EU help Ukraine keep? What else is Europe "
                      "considering?", 0.9, 0.8, [BERLIN], VOCABULARY)
    assert not decision.refuse, decision.reason


def test_a_count_must_count_what_the_question_counts() -> None:
    """"Berapa negara?" is not answered by "800 ribu personel"."""
    assert "negara" in refused("Berapa negara Eropa yang siap mengirim pasukan?", ARMY)
    assert refused("Hingga berapa personel angkatan bersenjata Ukraina?", ARMY) == ""
    assert refused("Berapa besar angkatan bersenjata Ukraina nantinya?", ARMY) == ""


def test_an_acronym_the_article_lacks_is_no_reason_to_refuse() -> None:
    """Acronyms are of translated names: "CFR" is Dewan Hubungan Luar Negeri."""
    assert refused("What did the CFR expert Liana Fiks say?", OFFER) == ""
