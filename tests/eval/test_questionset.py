"""Loading and validating question sets: errors carry file and line, YAML runs no code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval import questionset
from eval.questionset import QuestionSetError, load_question_set, missing_evidence
from index.documents import Document

GOOD = {"id": "q1", "lang": "en", "question": "What does Kyiv demand?", "answerable": True,
        "evidence": ["Memorandum Budapest 1994"], "answer_facts": ["Budapest"],
        "tags": ["ukraine"]}


def write_jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_valid_jsonl_set_loads_with_its_lines_and_hash(tmp_path: Path) -> None:
    follow = {**GOOD, "id": "q2", "question": "And Moscow?",
              "history": [{"role": "user", "content": "What does Kyiv demand?"}]}
    path = write_jsonl(tmp_path / "set.jsonl", [json.dumps(GOOD), "", json.dumps(follow)])
    qset = load_question_set(path)
    assert [q.id for q in qset.questions] == ["q1", "q2"]
    assert [q.line for q in qset.questions] == [1, 3]
    assert qset.questions[1].history_dicts() == follow["history"]
    assert qset.name == "set" and len(qset.sha256) == 64
    assert qset.warnings == ()


def test_every_broken_record_is_reported_with_its_line(tmp_path: Path) -> None:
    lines = [
        json.dumps(GOOD),
        json.dumps({**GOOD, "id": "q2", "answerable": "yes"}),
        json.dumps({k: v for k, v in GOOD.items() if k != "question"} | {"id": "q3"}),
        '{"id": "q4", "question": ',
        json.dumps({**GOOD, "id": "q5", "evidence": "not a list"}),
        json.dumps(GOOD),
        json.dumps({**GOOD, "id": "q7", "evidence": []}),
        json.dumps(["a", "list"]),
        json.dumps({**GOOD, "id": "q9", "history": [{"role": "system", "content": "x"}]}),
    ]
    path = write_jsonl(tmp_path / "bad.jsonl", lines)
    with pytest.raises(QuestionSetError) as caught:
        load_question_set(path)
    message = str(caught.value)
    assert f"{path}:4: not valid JSON" in message
    # JSON errors stop before field checks; fix them and the field errors show up.
    lines[3] = json.dumps({**GOOD, "id": "q4"})
    write_jsonl(path, lines)
    with pytest.raises(QuestionSetError) as caught:
        load_question_set(path)
    message = str(caught.value)
    assert f"{path}:2: 'answerable' must be true or false" in message
    assert f"{path}:3: missing field 'question'" in message
    assert f"{path}:5: 'evidence' must be a list of non-empty strings" in message
    assert f"{path}:6: duplicate id 'q1' (first used on line 1)" in message
    assert f"{path}:7: an answerable question needs at least one evidence phrase" in message
    assert f"{path}:8: expected an object" in message
    assert f"{path}:9: history[0] needs role" in message
    assert f"{path}:1:" not in message


def test_unknown_fields_and_unanswerable_evidence_are_warnings(tmp_path: Path) -> None:
    lines = [json.dumps({**GOOD, "answer_fact": ["typo"]}),
             json.dumps({"id": "u1", "lang": "id", "question": "Apa kata Biden?",
                         "answerable": False, "evidence": ["x"]})]
    qset = load_question_set(write_jsonl(tmp_path / "w.jsonl", lines))
    assert any(":1: unknown field 'answer_fact'" in w for w in qset.warnings)
    assert any(":2: unanswerable question has evidence" in w for w in qset.warnings)
    assert qset.questions[1].evidence == ()  # ignored, as the warning says


def test_evidence_missing_from_the_corpus_is_named(tmp_path: Path) -> None:
    lines = [json.dumps({**GOOD, "evidence": ["memorandum budapest  1994"]}),
             json.dumps({**GOOD, "id": "q2", "evidence": ["Budapest 1994", "Helsinki 1975"]})]
    qset = load_question_set(write_jsonl(tmp_path / "set.jsonl", lines))
    doc = Document("d", "T", "id", "Kyiv menuntut agar kewajiban baru tidak mengulangi nasib\n"
                   "Memorandum Budapest 1994.", "test")
    assert missing_evidence(qset.questions, [doc]) == [
        'line 2: q2: evidence not found in the corpus: "Helsinki 1975"']


@pytest.mark.parametrize(("name", "size"),
                         [("ukraina", 170), ("ukraina-heldout", 80), ("ukraina-fresh", 64),
                          ("offtopic", 40)])
def test_the_shipped_sets_are_valid_and_their_evidence_is_in_the_article(
        article: Document, name: str, size: int) -> None:
    qset = load_question_set(name)
    assert len(qset.questions) == size
    assert qset.warnings == ()
    assert missing_evidence(qset.questions, [article]) == []
    assert {q.lang for q in qset.questions} == {"en", "id"}


def test_yaml_list_loads_with_lines(tmp_path: Path) -> None:
    path = tmp_path / "set.yaml"
    path.write_text(
        "# comment\n"
        "- id: q1\n  lang: en\n  question: What does Kyiv demand?\n  answerable: true\n"
        "  evidence: [Memorandum Budapest 1994]\n  answer_facts: [Budapest]\n"
        "- id: q2\n  lang: id\n  question: Apa posisi Tiongkok?\n  answerable: false\n",
        encoding="utf-8")
    qset = load_question_set(path)
    assert [(q.id, q.line, q.answerable) for q in qset.questions] == [
        ("q1", 2, True), ("q2", 8, False)]


def test_yaml_errors_carry_lines(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("- id: q1\n  lang: en\n  question: [unclosed\n", encoding="utf-8")
    with pytest.raises(QuestionSetError, match=r"bad\.yaml:\d+:"):
        load_question_set(path)
    path.write_text("id: q1\nlang: en\n", encoding="utf-8")
    with pytest.raises(QuestionSetError, match=r"bad\.yaml:1: a YAML question set must be a list"):
        load_question_set(path)
    path.write_text("- id: q1\n  lang: en\n- id: q2\n  answerable: maybe\n", encoding="utf-8")
    with pytest.raises(QuestionSetError) as caught:
        load_question_set(path)
    assert f"{path}:3: 'answerable' must be true or false" in str(caught.value)


@pytest.mark.parametrize("tag", ["!!python/object/apply:os.system",
                                 "!!python/object/apply:subprocess.check_output"])
def test_a_malicious_yaml_tag_is_rejected_and_runs_nothing(tmp_path: Path, tag: str) -> None:
    marker = tmp_path / "pwned"
    command = f"touch {marker}" if tag.endswith("os.system") else ["touch", str(marker)]
    path = tmp_path / "evil.yaml"
    path.write_text(
        "- id: q1\n  lang: en\n  question: What?\n  answerable: false\n"
        f"- {tag} [{json.dumps(command)}]\n", encoding="utf-8")
    with pytest.raises(QuestionSetError) as caught:
        load_question_set(path)
    assert f"{path}:5:" in str(caught.value)
    assert "only plain YAML is allowed" in str(caught.value)
    assert not marker.exists()


def test_size_caps_give_clear_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = [json.dumps({**GOOD, "id": f"q{i}"}) for i in range(5)]
    path = write_jsonl(tmp_path / "many.jsonl", lines)
    monkeypatch.setattr(questionset, "MAX_QUESTIONS", 4)
    with pytest.raises(QuestionSetError, match="more than 4 questions"):
        load_question_set(path)
    monkeypatch.setattr(questionset, "MAX_FILE_BYTES", 100)
    with pytest.raises(QuestionSetError, match="larger than 100 bytes"):
        load_question_set(path)


def test_unknown_names_types_and_encodings_are_refused(tmp_path: Path) -> None:
    with pytest.raises(QuestionSetError, match=r"not a shipped question set.*ukraina"):
        load_question_set(tmp_path / "missing.jsonl")
    odd = tmp_path / "set.csv"
    odd.write_text("id,question\n", encoding="utf-8")
    with pytest.raises(QuestionSetError, match="unsupported file type"):
        load_question_set(odd)
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(b'\n{"id": "caf\xe9"}\n')
    with pytest.raises(QuestionSetError, match=r"latin.jsonl:2: not valid UTF-8"):
        load_question_set(latin)
    # Valid JSON whose escape is half a character: named by line and field.
    half = tmp_path / "half.jsonl"
    half.write_text('{"id": "q1", "lang": "en", "answerable": false, '
                    '"question": "Who \\ud800 coaches Dewi?"}\n', encoding="utf-8")
    with pytest.raises(QuestionSetError,
                       match=r"half.jsonl:1: 'question': U\+D800 at character 5 is a lone"):
        load_question_set(half)
    empty = write_jsonl(tmp_path / "empty.jsonl", [""])
    with pytest.raises(QuestionSetError, match="no questions"):
        load_question_set(empty)


def test_a_gold_answer_is_optional_and_kept(tmp_path: Path) -> None:
    lines = [json.dumps({**GOOD, "answer": "Memorandum Budapest 1994"}),
             json.dumps({**GOOD, "id": "q2"})]
    qset = load_question_set(write_jsonl(tmp_path / "set.jsonl", lines))
    assert [q.answer for q in qset.questions] == ["Memorandum Budapest 1994", None]
    assert qset.warnings == ()


def test_a_bad_gold_answer_is_reported_with_its_line(tmp_path: Path) -> None:
    lines = [json.dumps({**GOOD, "answer": "Budapest"}),
             json.dumps({**GOOD, "id": "q2", "answer": ""}),
             json.dumps({**GOOD, "id": "q3", "answer": ["Budapest"]}),
             json.dumps({**GOOD, "id": "q4", "answer": "  "}),
             json.dumps({**GOOD, "id": "q5", "answer": "The."}),
             json.dumps({**GOOD, "id": "q6", "answer": None})]
    path = write_jsonl(tmp_path / "bad.jsonl", lines)
    with pytest.raises(QuestionSetError) as caught:
        load_question_set(path)
    message = str(caught.value)
    for line in (2, 3, 4, 6):
        assert f"{path}:{line}: 'answer' must be a non-empty string" in message
    assert f"{path}:5: 'answer' 'The.' has no words left" in message
    assert f"{path}:1:" not in message


def test_an_unanswerable_question_with_a_gold_answer_is_a_warning(tmp_path: Path) -> None:
    line = json.dumps({"id": "u1", "lang": "id", "question": "Apa kata Biden?",
                       "answerable": False, "answer": "tidak ada"})
    qset = load_question_set(write_jsonl(tmp_path / "w.jsonl", [line]))
    assert any(":1: unanswerable question has an answer (ignored)" in w for w in qset.warnings)
    assert qset.questions[0].answer is None


def test_a_yaml_gold_answer_loads_and_a_number_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "set.yaml"
    path.write_text(
        "- id: q1\n  lang: en\n  question: What does Kyiv demand?\n  answerable: true\n"
        "  evidence: [Memorandum Budapest 1994]\n  answer_facts: [Budapest]\n"
        "  answer: Memorandum Budapest 1994\n", encoding="utf-8")
    assert load_question_set(path).questions[0].answer == "Memorandum Budapest 1994"
    path.write_text(path.read_text().replace("answer: Memorandum Budapest 1994",
                                             "answer: 1994"), encoding="utf-8")
    with pytest.raises(QuestionSetError, match=r"set\.yaml:1: 'answer' must be a string: "
                                               r"quote the number \(\"1994\"\)"):
        load_question_set(path)
