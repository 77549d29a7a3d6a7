"""The off-topic check's background: embedded once, cached, and what it refuses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant import calibration
from assistant.background import (
    BACKGROUND_PATH,
    background_sentences,
    load_background,
    vectors_name,
)
from assistant.phrases import refusal
from assistant.service import TanyaService
from eval.calibrate import OFF_TOPIC_MARGIN
from index.embedders import E5SmallQ4Embedder, HashEmbedder, make_embedder
from tests.support.settings import session_settings


def test_the_default_embedders_background_is_embedded_at_build_and_cached(
        e5: E5SmallQ4Embedder, e5_service: TanyaService) -> None:
    """Computed on this machine, never shipped: a 4-bit engine's floats differ by CPU."""
    assert not list(BACKGROUND_PATH.parent.glob("*.npy"))
    sentences = background_sentences()
    cached = e5_service.settings.cache_dir / vectors_name(e5, sentences)
    vectors = np.load(cached)  # written by the fixture's build, before any question
    assert vectors.shape == (len(sentences), e5.dim)
    sample = [0, len(sentences) // 2, len(sentences) - 1]
    fresh = e5.embed_passages([sentences[i] for i in sample])
    # Both normalized: the same sentences, whatever batch they were embedded in.
    assert (np.sum(vectors[sample] * fresh, axis=1) > 0.999).all()


def test_the_background_has_no_word_of_the_articles_subject() -> None:
    text = " ".join(background_sentences()).lower()
    for word in ("ukrain", "rusia", "russia", "nato", "perang", "military", "militer"):
        assert word not in text


def test_other_embedders_embed_once_then_read_the_cache(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    embedder = HashEmbedder(32)
    first = load_background(embedder, tmp_path)
    assert len(list(tmp_path.glob("background-*.npy"))) == 1

    def must_not_embed(texts: list[str]) -> np.ndarray:
        raise AssertionError("embedded again instead of reading the cache")

    monkeypatch.setattr(embedder, "embed_passages", must_not_embed)
    assert np.array_equal(load_background(embedder, tmp_path).vectors, first.vectors)


def test_a_damaged_cache_is_embedded_again(tmp_path: Path) -> None:
    embedder = HashEmbedder(32)
    (tmp_path / vectors_name(embedder, background_sentences())).write_bytes(b"not numpy")
    assert load_background(embedder, tmp_path).vectors.shape == (
        len(background_sentences()), 32)


def test_an_unwritable_cache_still_answers(tmp_path: Path) -> None:
    # A file where the cache folder should be: mkdir fails even for root.
    (tmp_path / "home").write_text("not a folder")
    background_of = load_background(HashEmbedder(32), tmp_path / "home" / "cache")
    assert background_of.vectors.shape == (len(background_sentences()), 32)


# From the blind off-topic set; none has a near-twin among the background sentences.
# Each clears the confidence threshold by more than a CPU's rounding (else the refusal
# would be for low confidence, not for the topic): all four are refused as off-topic,
# by the same leads, under `e5-small-q4+jitter:0.0003:SEED` for seeds 1 to 3 too.
@pytest.mark.parametrize(
    ("question", "lang"),
    [("Why is the sky blue?", "en"),
     ("Is it better to pay off my credit card first or put money into a savings account",
      "en"),
     ("my phone won't charge anymore, even with a new cable. what should I try", "en"),
     ("Mengapa bulan terlihat berubah bentuk setiap malam?", "id")])
def test_off_topic_questions_are_refused_by_the_background(
        e5_sentence_service: TanyaService, question: str, lang: str) -> None:
    answer = e5_sentence_service.ask(question)
    assert answer.refused and answer.lang == lang and answer.citations == []
    assert answer.refusal_reason.startswith("off-topic"), answer.refusal_reason
    # Nothing in the article is "closest" to a question about something else.
    assert answer.answer == refusal(lang)


def test_requests_about_the_article_are_answered(e5_sentence_service: TanyaService) -> None:
    for question in ("What is this article about?", "Apa isi artikel ini?",
                     "Summarize the article"):
        answer = e5_sentence_service.ask(question)
        assert not answer.refused and answer.citations, (question, answer.refusal_reason)


def test_without_the_background_check_off_topic_questions_get_answers(
        e5_sentence_service: TanyaService, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check is what refuses them (reader off): the threshold alone lets them
    through."""
    assert e5_sentence_service.off_topic_margin == OFF_TOPIC_MARGIN < 0
    monkeypatch.setattr(e5_sentence_service, "off_topic_margin", None)
    answer = e5_sentence_service.ask("Why is the sky blue?")
    assert not answer.refused


def test_uncalibrated_embedders_have_no_off_topic_check(hash_service: TanyaService) -> None:
    assert hash_service.off_topic_margin is None


def test_a_jittered_embedder_keeps_its_models_calibration(
        tanya_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`+jitter` measures the same model on other arithmetic: its threshold and its
    off-topic check apply, while its index and its background are its own."""
    monkeypatch.setattr(calibration, "load_calibration", lambda: {
        "hash:64": {"threshold": 0.5, "off_topic_margin": -0.02}})
    jittered = make_embedder("hash:64+jitter:0.001:3")
    service = TanyaService(session_settings(home=tanya_home, embedder=jittered.spec),
                           embedder=jittered)
    assert service.off_topic_margin == -0.02
    assert vectors_name(jittered, background_sentences()) != vectors_name(
        HashEmbedder(64), background_sentences())
