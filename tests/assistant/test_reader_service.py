"""The reader in the answering service: spans with exact offsets, answers that lead with
them, refusals by answerability, ``--reader off``, and a broken adapter."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.calibration import reader_threshold
from assistant.reader import adapter as adapter_module
from assistant.reader.adapter import ReaderUnavailableError
from assistant.reader.answerability import SIGNALS
from assistant.service import TanyaService
from assistant.settings import Settings
from index.documents import Document

pytestmark = [pytest.mark.slow, pytest.mark.integration]

@pytest.fixture(scope="module")
def reader_service(e5_service: TanyaService) -> TanyaService:
    """The session's e5 service over the article, with the reader on."""
    assert e5_service.settings.reader_on
    return e5_service


ANSWERED = [
    "Siapa peneliti senior di Defense Priorities?",
    "Who is the senior fellow at Defense Priorities?",
]


@pytest.mark.parametrize("question", ANSWERED)
def test_an_answered_question_leads_with_a_span_at_exact_offsets(
        reader_service: TanyaService, article: Document, question: str) -> None:
    answer = reader_service.ask(question)
    assert not answer.refused
    span = answer.answer_span
    assert span is not None and span.text
    assert span.doc_id == article.doc_id
    assert article.text[span.start:span.end] == span.text
    assert "Kavana" in span.text  # "Jennifer Kavana", the name the question asks for
    assert answer.answer.startswith(span.text)
    first = answer.citations[0]
    assert first.start <= span.start < span.end <= first.end  # cited sentence holds it
    # The span keeps the reader's own score; answerability combines it with retrieval.
    assert answer.signals["reader"] == span.score
    assert answer.answerability is not None and set(answer.signals) == set(SIGNALS)


def test_reader_off_answers_with_sentences_only(e5_sentence_service: TanyaService) -> None:
    answer = e5_sentence_service.ask(ANSWERED[0])
    assert answer.answer_span is None and answer.answerability is None
    assert answer.signals == {}
    assert answer.citations and answer.to_dict()["answer_span"] is None


def test_a_question_the_article_does_not_answer_is_refused_without_a_span(
        reader_service: TanyaService) -> None:
    answer = reader_service.ask("Berapa harga tiket kereta cepat Jakarta-Bandung?")
    assert answer.refused and answer.answer_span is None
    assert answer.refusal_reason.startswith("reader: answerability")
    threshold = reader_threshold(reader_service.reader().adapter.sha256,
                                 reader_service.embedder.calibration_spec, "id")
    assert answer.answerability is not None and answer.answerability < threshold


def test_the_threshold_setting_overrides_the_calibrated_one(
        reader_service: TanyaService) -> None:
    strict = TanyaService(reader_service.settings.with_(reader_threshold=1e9),
                          embedder=reader_service.embedder)
    answer = strict.ask(ANSWERED[0])
    assert answer.refused and answer.answer_span is None


def test_a_corrupt_adapter_is_one_clear_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reader_service: TanyaService) -> None:
    broken = tmp_path / "adapter"
    broken.mkdir()
    for name in ("adapter.safetensors", "adapter.json"):
        shutil.copy(adapter_module.SHIPPED_DIR / name, broken / name)
    data = bytearray((broken / "adapter.safetensors").read_bytes())
    data[-1] ^= 0xFF
    (broken / "adapter.safetensors").write_bytes(bytes(data))
    monkeypatch.setattr(adapter_module, "SHIPPED_DIR", broken)
    fresh = TanyaService(reader_service.settings, embedder=reader_service.embedder)
    with pytest.raises(ReaderUnavailableError, match="tanya reader train"):
        fresh.ask(ANSWERED[0])


def test_ask_json_carries_the_span(tanya_home: Path, e5_service: TanyaService) -> None:
    # Same cache as the session's service: the reader's graph is already built.
    env = {"TANYA_HOME": str(tanya_home), "TANYA_CACHE": str(e5_service.settings.cache_dir),
           "TANYA_READER": "on", "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "assistant", "ask", ANSWERED[1], "--json"],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    span = data["answer_span"]
    assert set(span) == {"text", "doc_id", "start", "end", "score"}
    assert data["answer"].startswith(span["text"])


def test_settings_reject_an_unknown_reader_mode() -> None:
    from assistant.errors import ConfigError

    with pytest.raises(ConfigError, match="reader must be 'on' or 'off'"):
        Settings(reader="maybe")


def test_reader_chars_sets_how_much_of_each_passage_the_reader_reads(
        reader_service: TanyaService, monkeypatch: pytest.MonkeyPatch) -> None:
    """A larger ``reader_chars`` reads more whole sentences around the same best sentence
    of the same passages; a smaller one reads less (what an answer costs)."""
    from assistant.reader.runtime import ReadPassage

    reader = reader_service.reader()
    real_read = reader.read
    read: list[list[ReadPassage]] = []

    def spy(question: str, passages: list[ReadPassage]) -> object:
        read.append(list(passages))
        return real_read(question, passages)

    monkeypatch.setattr(reader, "read", spy)
    for chars in (120, 700):
        service = TanyaService(reader_service.settings.with_(reader_chars=chars),
                               embedder=reader_service.embedder)
        service.ask(ANSWERED[0])
    small, large = read
    assert len(small) == len(large) == 3
    for a, b in zip(small, large, strict=True):
        assert a.doc_id == b.doc_id and a.text in b.text
        assert b.start <= a.start and a.start + len(a.text) <= b.start + len(b.text)
    assert sum(len(p.text) for p in large) > sum(len(p.text) for p in small)
    assert max(len(p.text) for p in large) > 300


def test_settings_read_reader_chars_and_reject_a_silly_one() -> None:
    from assistant.errors import ConfigError

    assert Settings.from_env({"TANYA_READER_CHARS": "450"}).reader_chars == 450
    with pytest.raises(ConfigError, match=r"TANYA_READER_CHARS\) must be between 50 and 5000"):
        Settings(reader_chars=10)
    with pytest.raises(ConfigError, match="not a number"):
        Settings.from_env({"TANYA_READER_CHARS": "lots"})
