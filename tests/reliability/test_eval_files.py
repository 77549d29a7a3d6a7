"""Item 10 beyond tests/eval/test_questionset.py (which proves malicious tags, size caps
by monkeypatch, and file:line errors): real oversized files, nesting bombs and alias
bombs through `tanya eval run`, each a clear one-line error in bounded time, nothing run."""

from __future__ import annotations

import json
import time
import tracemalloc
from pathlib import Path

import pytest

from assistant.cli import main
from eval import questionset
from eval.questionset import QuestionSetError, load_question_set

GOOD = {"id": "q1", "lang": "en", "question": "What does Kyiv demand?", "answerable": True,
        "evidence": ["Memorandum Budapest 1994"], "answer_facts": ["Budapest"]}


def _alias_bomb(levels: int = 9) -> str:
    """The 'billion laughs': each level references the previous one nine times."""
    lines = ['- &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"- &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    lines.append("- id: q1\n  lang: en\n  question: What?\n  answerable: true\n"
                 f"  evidence: *a{levels - 1}\n  answer_facts: *a{levels - 1}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(("name", "text", "expected"), [
    ("deep.jsonl", json.dumps(GOOD) + "\n" + "[" * 200_000 + "\n",
     r"deep\.jsonl:2: nested too deeply"),
    ("deep.yaml", "- " + "[" * 200_000 + "\n", r"deep\.yaml:1: nested too deeply"),
    ("bomb.yaml", _alias_bomb(),
     r"bomb\.yaml:2: aliases \(\*name\) are not allowed in a question set"),
    ("anchors.yaml", "- &x {id: q1, lang: en, question: 'Q', answerable: false}\n- *x\n",
     r"anchors\.yaml:2: aliases \(\*name\) are not allowed"),
    ("mixed.jsonl", "\n".join([json.dumps(GOOD), "{]", '"a string"', "null"]) + "\n",
     r"mixed\.jsonl:2: not valid JSON"),
])
def test_hostile_sets_fail_fast_with_their_line(tmp_path: Path, name: str, text: str,
                                                expected: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    started = time.monotonic()
    with pytest.raises(QuestionSetError, match=expected):
        load_question_set(path)
    assert time.monotonic() - started < 5


def test_an_enormous_file_is_refused_without_being_parsed(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    path = tmp_path / "huge.jsonl"
    line = (json.dumps(GOOD) + "\n").encode()
    with open(path, "wb") as handle:  # just over the cap, written once
        handle.write(line * (questionset.MAX_FILE_BYTES // len(line) + 1))
    # tracemalloc, not ru_maxrss: the process's high-water mark, already raised by
    # whatever ran before, would hide this command's allocations.
    tracemalloc.start()
    try:
        assert main(["eval", "run", str(path)]) == 2
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    err = capsys.readouterr().err.strip()
    assert err == (f"tanya: {path}: file is larger than {questionset.MAX_FILE_BYTES:,} bytes; "
                   "split it into smaller sets")
    assert peak < 1.5 * questionset.MAX_FILE_BYTES, "read once, up to the cap, never decoded"


def test_many_bad_rows_are_listed_with_lines_and_capped(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    path = tmp_path / "rows.jsonl"
    rows = [json.dumps({**GOOD, "id": f"q{i}", "answerable": "yes"}) for i in range(50)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.yaml"
    evil.write_text(f'- !!python/object/apply:os.system ["touch {marker}"]\n', encoding="utf-8")
    assert main(["eval", "run", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:1: 'answerable' must be true or false" in err
    assert f"{path}:20:" in err and f"{path}:21:" not in err and "... and 30 more" in err
    assert main(["eval", "run", str(evil)]) == 2
    assert "only plain YAML is allowed" in capsys.readouterr().err
    assert not marker.exists()
