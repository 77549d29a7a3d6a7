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
MEMO = Evidence(
    "Kyiv menuntut agar kewajiban baru tidak mengulangi nasib Memorandum Budapest 1994.",
    "Kyiv menuntut agar kewajiban baru tidak mengulangi nasib Memorandum Budapest 1994.")
VOCABULARY = Vocabulary([ARMY.passage, OFFER.passage, MERZ.passage, BERLIN.passage,
                         MEMO.passage, "Dewan Hubungan Luar Negeri AS Liana Fiks mencatat.",
                         "Jennifer Kavana, mantan analis Pentagon."])


def refused(question: str, *chosen: Evidence, confidence: float = 0.9) -> str:
    decision = decide(question=question, query=question, confidence=confidence,
                      threshold=0.8, chosen=list(chosen), vocabulary=VOCABULARY)
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
     ("Berapa besar anggaran UE untuk angkatan bersenjata Ukraina?", "money"),
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
    """A follow-up's standalone query carries the previous question's "how many"."""
    decision = decide(question="What else is Europe considering?",
                      query="How many soldiers would the EU help Ukraine keep? What else is "
                      "Europe considering?", confidence=0.9, threshold=0.8, chosen=[BERLIN],
                      vocabulary=VOCABULARY)
    assert not decision.refuse, decision.reason


def test_a_count_must_count_what_the_question_counts() -> None:
    """"Berapa negara?" is not answered by "800 ribu personel"."""
    assert "negara" in refused("Berapa negara Eropa yang siap mengirim pasukan?", ARMY)
    assert refused("Hingga berapa personel angkatan bersenjata Ukraina?", ARMY) == ""
    assert refused("Berapa besar angkatan bersenjata Ukraina nantinya?", ARMY) == ""


def test_an_acronym_beside_a_known_name_is_no_reason_to_refuse() -> None:
    """"CFR" is the article's Dewan Hubungan Luar Negeri AS; the IMF is not in it."""
    assert refused("What did the CFR expert Liana Fiks say?", OFFER) == ""
    assert refused("siapa pakar CFR yang bilang soal itu? Liana siapa gitu", OFFER) == ""
    assert "IMF" in refused("What does the IMF say about the guarantees?", OFFER)


def test_a_name_after_a_translated_institution_is_still_checked() -> None:
    reason = refused("What does the Council of Europe's Alain Berset say?", OFFER)
    assert "Alain" in reason and "Berset" in reason


@pytest.mark.parametrize("question", [
    "Tahun berapa Memorandum Budapest ditandatangani?",
    "Memorandum tahun berapa yang tidak ingin diulang Kyiv?",
    "Berapa tentara Ukraina yang akan dipertahankan dengan dukungan UE?",
    "Berapa besar peran Eropa dalam jaminan ini?",
    "How big a role would Europe play?",
    "How much would Ukraine depend on American guarantees?",
    "How many soldiers would the EU help Ukraine keep, according to the Pentagon?",
])
def test_questions_that_only_look_like_counts_are_answered(question: str) -> None:
    assert refused(question, MEMO if "Memorandum" in question else ARMY) == ""


def test_a_role_mentioned_in_passing_is_not_asked_for() -> None:
    assert refused("Which countries did the German chancellor mention?", BERLIN) == ""
    assert "person" in refused("Who is NATO's secretary general?", OFFER)
    assert "person" in refused("Which US envoy leads the talks?", OFFER)


def test_requests_about_the_article_itself_are_never_off_topic() -> None:
    def lead_refused(question: str, lead: float) -> bool:
        return decide(question=question, query=question, confidence=0.9, threshold=0.8,
                      chosen=[OFFER], vocabulary=VOCABULARY, topic_lead=lead).refuse

    assert lead_refused("How do I renew my passport?", -0.01)
    assert not lead_refused("Summarize the article", -0.01)
    assert not lead_refused("Ringkas artikel ini.", -0.01)
    assert not lead_refused("How do I renew my passport?", 0.01)
    assert lead_refused("Berita terbaru soal harga BBM?", -0.01)
