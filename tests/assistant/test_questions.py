"""Bad input gets a clear message or a sensible refusal, never a traceback."""

from __future__ import annotations

import pytest

from assistant.cli import main
from assistant.errors import BadQuestionError
from assistant.language import detect_language
from assistant.questions import clean_question


@pytest.mark.parametrize(
    ("question", "message"),
    [("", "empty"), ("   \n\t ", "empty"), ("\x00\x07\x1b", "empty"), ("?!...", "no words"),
     ("x" * 40_000, "limit is 2000"),
     # a JSON "\ud800" escape, or a non-UTF-8 byte in argv (surrogateescape)
     ("Who \ud800 coaches Dewi?", "U\\+D800 at character 5 is a lone surrogate"),
     ("Who \udcff coaches Dewi?", "U\\+DCFF at character 5 is a lone surrogate")],
)
def test_unusable_questions_get_a_clear_error(hash_service, question, message):
    with pytest.raises(BadQuestionError, match=message):
        hash_service.ask(question)


def test_control_characters_are_removed_not_fatal(hash_service):
    answer = hash_service.ask("Kyiv\x00 menuntut\x1b apa?")
    assert answer.question == "Kyiv menuntut apa?"


@pytest.mark.parametrize("k", [0, -1, 51])
def test_bad_k_is_refused(hash_service, k):
    with pytest.raises(BadQuestionError, match="k must be"):
        hash_service.ask("Kyiv?", k=k)


@pytest.mark.parametrize("history", [["not a turn"], [{"role": "system", "content": "x"}],
                                     [{"role": "user", "content": 5}],
                                     [{"role": "user", "content": "Kyiv \ud800?"}]])
def test_malformed_history_is_refused(hash_service, history):
    with pytest.raises(BadQuestionError, match="history"):
        hash_service.ask("Kyiv?", history)


@pytest.mark.parametrize(
    ("text", "lang"),
    [("What does Kyiv demand?", "en"), ("Apa tuntutan Kyiv?", "id"),
     ("Siapa Liana Fiks?", "id"), ("Who is Liana Fiks?", "en"),
     # no common function word: the n-grams of "tanggal", "berapakah" still tell
     ("Tanggal berapakah ulang tahun Kota Bandung", "id"),
     ("Что требует Киев?", "other"), ("基辅要求什么？", "other")],
)
def test_language_detection(text, lang):
    assert detect_language(text) == lang


def test_other_scripts_get_an_answer_or_refusal_not_an_error(e5_service):
    answer = e5_service.ask("Что требует Киев от новых гарантий?")
    assert answer.lang == "other"
    assert answer.refused or answer.citations


@pytest.mark.parametrize("question", ["", "   ", "x" * 3000, "Who \udcff coaches Dewi?"])
def test_cli_prints_one_line_and_exit_code_2(hash_service, capsys, monkeypatch, question):
    monkeypatch.setenv("TANYA_EMBEDDER", "hash:64")
    code = main(["ask", question])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("tanya: ") and err.count("\n") == 1
    assert "Traceback" not in err


def test_a_form_feed_in_a_question_separates_words() -> None:
    assert clean_question("What\x0cdoes\x00 Kyiv\u202e demand", 500) == "What does Kyiv demand"


def test_the_cli_refuses_a_bad_question_before_a_first_run_sets_anything_up(
        tanya_home, capsys, monkeypatch):
    monkeypatch.setenv("TANYA_EMBEDDER", "hash:64")
    assert main(["ask", "Who \udcff coaches Dewi?"]) == 2
    err = capsys.readouterr().err
    assert "lone surrogate" in err and "building" not in err and "Preparing" not in err
    assert not (tanya_home / "chroma").exists(), "no index was built for it"
