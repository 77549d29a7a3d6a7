"""The question-language model: shipped as built, and right on every shipped set."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from assistant.language import MODEL_PATH, LanguageModel, detect_language
from assistant.language_train import build, main, weights_sha256
from assistant.reader.data import EXTRA_TRANSLATIONS, TRANSLATIONS
from assistant.service import TanyaService
from assistant.types import Turn
from eval.questionset import load_question_set, shipped_sets
from tests.support.facqa import FACQA


def test_the_shipped_model_matches_its_manifest() -> None:
    data = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    manifest = data["manifest"]
    assert weights_sha256(data["weights"]) == manifest["weights_sha256"]
    assert len(data["weights"]) > 1000
    # made from the translations this checkout ships (FacQA itself may not be here)
    for path in (TRANSLATIONS, EXTRA_TRANSLATIONS):
        assert manifest["data"][path.name] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert manifest["train"] == {"en": 1077, "id": 1077}
    for lang in ("en", "id"):
        assert manifest["dev"][lang] == {"questions": 247, "errors": 0}


def test_the_build_refuses_data_that_is_not_facqa(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """An empty or foreign file must not replace the model with an empty one."""
    out = tmp_path / "language.json"
    for text in ("", '{"question": "Siapa?"}\n'):
        facqa = tmp_path / "train.jsonl"
        facqa.write_text(text, encoding="utf-8")
        with pytest.raises(SystemExit) as stopped:
            main(["--facqa", str(facqa), "--out", str(out)])
        assert stopped.value.code == 2
        assert "cannot build from it" in capsys.readouterr().err
        assert not out.exists()


@pytest.mark.parametrize("name", sorted(shipped_sets()))
def test_every_shipped_question_is_placed_in_its_labelled_language(name: str) -> None:
    """The archive sets come from FacQA's dev and test splits, never fitted on; the
    word list this replaced placed 22 of archive-dev's Indonesian questions in English."""
    wrong = [(q.id, q.question) for q in load_question_set(name).questions
             if detect_language(q.question) != q.lang]
    assert wrong == []


def test_a_text_with_no_known_ngram_is_english_and_other_scripts_are_other() -> None:
    model = LanguageModel({" ya": -1.0, "the": 1.0}, 3)
    assert model.detect("xyz") == "en"
    assert model.detect("ya ya") == "id"
    assert detect_language("123 ?") == "other"
    assert detect_language("Что требует Киев?") == "other"


def test_the_build_reproduces_the_shipped_model() -> None:
    if not FACQA.is_file():
        pytest.skip(f"{FACQA} is missing: the model cannot be rebuilt without it")
    shipped = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    built = build(FACQA)
    assert built["manifest"]["data"] == shipped["manifest"]["data"]
    assert built["weights"].keys() == shipped["weights"].keys()
    # libm's log may differ in its last bit between CPUs: compare to the rounding.
    assert all(abs(built["weights"][g] - w) <= 2e-4 for g, w in shipped["weights"].items())


def test_a_follow_up_is_read_with_the_question_before_it() -> None:
    """The previous question counts as more text in the same language: a follow-up with
    little of its own takes the conversation's; one with a language of its own keeps it."""
    assert detect_language("Dan Moskow?") == "en"  # too little to tell alone
    assert detect_language("Dan Moskow?", ["Apa tuntutan Kyiv?"]) == "id"
    assert detect_language("And what does Moscow want?", ["Apa tuntutan Kyiv?"]) == "en"
    assert detect_language("Siapa dia?", ["Who is Liana Fiks?"]) == "id"


def test_the_service_frames_a_follow_up_in_the_conversations_language(
        hash_service: TanyaService) -> None:
    history = [Turn("user", "Apa tuntutan Kyiv?"), Turn("assistant", "Menurut artikel: ...")]
    assert hash_service.ask("Dan Moskow?", history).lang == "id"
    assert hash_service.ask("Dan Moskow?").lang == "en"
