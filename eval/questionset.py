"""Question sets: load JSONL or a YAML list, validate every record, report file:line.

A record (see DESIGN.md)::

    {"id": "q01", "lang": "en", "question": "What does Kyiv demand?", "answerable": true,
     "evidence": ["Memorandum Budapest 1994"], "answer_facts": ["Budapest"],
     "tags": ["position"], "history": [{"role": "user", "content": "..."}],
     "answer": "Memorandum Budapest 1994"}

``tags``, ``history`` and ``answer`` (the gold short answer, scored against the reader's
span) are optional; ``evidence`` and ``answer_facts`` may be left out of unanswerable
questions. YAML is read with PyYAML's safe loader only, so tags such as
``!!python/object/apply`` are rejected and never run; aliases are refused too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml

from assistant.errors import TanyaError
from assistant.language import ANSWER_LANGUAGES, conversation_language
from eval.metrics import normalize, normalize_answer
from index.documents import Document
from index.formats import surrogate_fields

MAX_FILE_BYTES = 10_000_000
MAX_QUESTIONS = 10_000
MAX_ERRORS_SHOWN = 20
_SUFFIXES = {".jsonl": "jsonl", ".yaml": "yaml", ".yml": "yaml"}
# A question record is flat; thousands of nested brackets only exhaust the parser's stack.
_TOO_DEEP = "nested too deeply to be a question record"
_KNOWN_FIELDS = frozenset(
    ["id", "question", "lang", "answerable", "evidence", "answer_facts", "tags", "history",
     "answer"])


class QuestionSetError(TanyaError):
    """A question set that cannot be used; the message lists every problem as file:line."""

    status = 422


@dataclass(frozen=True)
class Question:
    """One validated question; ``line`` is where its record starts in the file."""

    id: str
    question: str
    lang: str
    answerable: bool
    evidence: tuple[str, ...] = ()
    answer_facts: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    history: tuple[tuple[str, str], ...] = ()
    answer: str | None = None
    line: int = 0

    def history_dicts(self) -> list[dict[str, str]]:
        return [{"role": role, "content": content} for role, content in self.history]


@dataclass(frozen=True)
class QuestionSet:
    """A loaded set: its questions, where it came from, a content hash, and warnings."""

    name: str
    source: str
    sha256: str
    questions: tuple[Question, ...]
    warnings: tuple[str, ...] = field(default_factory=tuple)
    #: the corpus a shipped set is asked over, when it is not the bundled article
    corpus: Path | None = None

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "source": self.source, "sha256": self.sha256,
                "n": len(self.questions)}


def shipped_sets() -> dict[str, Traversable]:
    """The question sets that ship with Tanya, by name (file stem)."""
    folder = resources.files("eval") / "questionsets"
    return {Path(f.name).stem: f for f in folder.iterdir()
            if Path(f.name).suffix in _SUFFIXES}


def load_question_set(spec: str | Path) -> QuestionSet:
    """Load a question set from a path, or by name for a shipped set (``ukraina``)."""
    path = Path(spec)
    if path.is_file():
        source: Traversable | Path = path
        label = str(path)
    else:
        shipped = shipped_sets()
        # A shipped name wins over a folder of that name (a run's --out, say).
        if str(spec) not in shipped:
            if path.is_dir():
                raise QuestionSetError(f"{spec} is a directory; give a question set file "
                                       "(.jsonl, .yaml) or a shipped set's name")
            names = ", ".join(sorted(shipped)) or "none"
            raise QuestionSetError(
                f"{spec}: no such file, and not a shipped question set ({names})")
        source = shipped[str(spec)]
        label = f"shipped:{source.name}"
    kind = _SUFFIXES.get(Path(source.name).suffix.lower())
    if kind is None:
        raise QuestionSetError(f"{label}: unsupported file type; use .jsonl, .yaml or .yml")
    raw = _read_capped(source, label)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise QuestionSetError(
            f"{label}:{line}: not valid UTF-8 (byte {exc.start}); re-save it as UTF-8"
        ) from None
    records = _jsonl_records(text, label) if kind == "jsonl" else _yaml_records(text, label)
    questions, warnings = _validate(records, label)
    name = Path(source.name).stem
    return QuestionSet(name, label, hashlib.sha256(raw).hexdigest(), tuple(questions),
                       tuple(warnings), corpus=None if path.is_file() else shipped_corpus(name))


def shipped_corpus(name: str) -> Path | None:
    """``eval/corpora/NAME``: the documents a shipped set is asked over, if it has its own."""
    folder = Path(str(resources.files("eval") / "corpora" / name))
    return folder if folder.is_dir() else None


def missing_evidence(questions: Iterable[Question], documents: Sequence[Document]
                     ) -> list[str]:
    """Warnings naming evidence phrases that occur in no document: such a question can
    never score a retrieval hit."""
    texts = [normalize(d.text) for d in documents]
    warnings = []
    for q in questions:
        absent = [e for e in q.evidence if not any(normalize(e) in t for t in texts)]
        if absent:
            shown = ", ".join(json.dumps(e, ensure_ascii=False) for e in absent)
            warnings.append(f"line {q.line}: {q.id}: evidence not found in the corpus: {shown}")
    return warnings


# -- reading --------------------------------------------------------------------------------
def _read_capped(source: Traversable | Path, label: str) -> bytes:
    with source.open("rb") as handle:
        raw = handle.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise QuestionSetError(
            f"{label}: file is larger than {MAX_FILE_BYTES:,} bytes; split it into smaller sets")
    return bytes(raw)


def _too_many(label: str) -> QuestionSetError:
    return QuestionSetError(
        f"{label}: more than {MAX_QUESTIONS:,} questions; split it into smaller sets")


def _jsonl_records(text: str, label: str) -> list[tuple[int, Any]]:
    records: list[tuple[int, Any]] = []
    errors: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if len(records) >= MAX_QUESTIONS:
            raise _too_many(label)
        try:
            records.append((number, json.loads(line)))
        except json.JSONDecodeError as exc:
            errors.append(f"{label}:{number}: not valid JSON ({exc.msg}, column {exc.colno})")
        except RecursionError:
            errors.append(f"{label}:{number}: {_TOO_DEEP}")
    _raise_if(errors)
    return records


def _yaml_records(text: str, label: str) -> list[tuple[int, Any]]:
    loader = _PlainLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return []
        if not isinstance(root, yaml.SequenceNode):
            raise QuestionSetError(
                f"{label}:{root.start_mark.line + 1}: a YAML question set must be a list "
                "of questions")
        if len(root.value) > MAX_QUESTIONS:
            raise _too_many(label)
        # Construct item by item so each record keeps the line it starts on.
        return [(item.start_mark.line + 1, loader.construct_document(item))
                for item in root.value]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{label}:{mark.line + 1}" if mark else label
        problem = exc.problem or exc.context or "invalid YAML"
        if isinstance(exc, yaml.constructor.ConstructorError):
            problem = f"{problem} (only plain YAML is allowed: no !!python or custom tags)"
        raise QuestionSetError(f"{where}: {problem}") from None
    except yaml.YAMLError as exc:
        raise QuestionSetError(f"{label}: invalid YAML ({exc})") from None
    except RecursionError:
        raise QuestionSetError(f"{label}:{loader.line + 1}: {_TOO_DEEP}") from None
    finally:
        loader.dispose()


class _PlainLoader(yaml.SafeLoader):
    """The safe loader without aliases: a question set needs none, an alias expands into
    'billion laughs', and an aliased record would report its anchor's line."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed in a question set",
                self.peek_event().start_mark)
        return super().compose_node(parent, index)


# -- validation -----------------------------------------------------------------------------
def _validate(records: list[tuple[int, Any]], label: str) -> tuple[list[Question], list[str]]:
    errors: list[str] = []
    warnings: list[str] = []
    questions: list[Question] = []
    seen: dict[str, int] = {}
    for line, record in records:
        where = f"{label}:{line}"
        problems, notes = _check_record(record)
        warnings += [f"{where}: {note}" for note in notes]
        if problems:
            errors += [f"{where}: {problem}" for problem in problems]
            continue
        qid = record["id"].strip()
        if qid in seen:
            errors.append(f"{where}: duplicate id {qid!r} (first used on line {seen[qid]})")
            continue
        seen[qid] = line
        question = _to_question(record, line)
        warnings += [f"{where}: {note}" for note in _language_warnings(question)]
        questions.append(question)
    if not records:
        errors.append(f"{label}: no questions")
    _raise_if(errors)
    return questions, warnings


def _check_record(record: Any) -> tuple[list[str], list[str]]:
    """(errors, warnings) for one record."""
    if not isinstance(record, dict):
        return [f"expected an object with id, question, ..., got {type(record).__name__}"], []
    errors: list[str] = []
    for name in ("id", "question", "lang"):
        value = record.get(name)
        if name not in record:
            errors.append(f"missing field {name!r}")
        elif not isinstance(value, str) or not value.strip():
            errors.append(f"{name!r} must be a non-empty string")
    if "answerable" not in record:
        errors.append("missing field 'answerable'")
    elif not isinstance(record["answerable"], bool):
        errors.append("'answerable' must be true or false")
    answerable = record.get("answerable") is True
    for name in ("evidence", "answer_facts", "tags"):
        if name not in record:
            if name != "tags" and answerable:
                errors.append(f"missing field {name!r}")
        elif not _is_string_list(record[name]):
            errors.append(f"{name!r} must be a list of non-empty strings")
    if answerable and _is_string_list(record.get("evidence")) and not record["evidence"]:
        errors.append("an answerable question needs at least one evidence phrase")
    errors += _check_history(record.get("history", []))
    errors += _check_answer(record)
    errors += surrogate_fields(record)  # text no model can read
    warnings = [f"unknown field {name!r} (ignored)" for name in record
                if name not in _KNOWN_FIELDS]
    if record.get("answerable") is False and (record.get("evidence") or
                                              record.get("answer_facts")):
        warnings.append("unanswerable question has evidence or answer_facts (ignored)")
    if record.get("answerable") is False and "answer" in record:
        warnings.append("unanswerable question has an answer (ignored)")
    return errors, warnings


def _language_warnings(question: Question) -> list[str]:
    """``lang`` only groups the metrics; the service answers a question in the language
    it reads as. A label it cannot read as, or one it disagrees with, is worth a word."""
    if question.lang not in ANSWER_LANGUAGES:
        return [f"lang {question.lang!r}: Tanya tells {' and '.join(ANSWER_LANGUAGES)} apart; "
                f"the metrics group this question under {question.lang!r}, and it is "
                "answered as the language it reads as"]
    read_as = conversation_language(question.question, question.history)  # as served
    if read_as != question.lang:
        return [f"lang {question.lang!r}, but the question reads as {read_as!r} (answered "
                f"as {read_as!r}, grouped under {question.lang!r})"]
    return []


def _check_history(history: Any) -> list[str]:
    if not isinstance(history, list):
        return ["'history' must be a list of {role, content} objects"]
    for i, turn in enumerate(history):
        if (not isinstance(turn, dict) or turn.get("role") not in ("user", "assistant")
                or not isinstance(turn.get("content"), str)):
            return [f"history[{i}] needs role 'user' or 'assistant' and text content"]
    return []


def _check_answer(record: dict[str, Any]) -> list[str]:
    if "answer" not in record:
        return []
    answer = record["answer"]
    if isinstance(answer, int | float) and not isinstance(answer, bool):
        return [f"'answer' must be a string: quote the number ({json.dumps(str(answer))})"]
    if not isinstance(answer, str) or not answer.strip():
        return ["'answer' must be a non-empty string (the gold short answer)"]
    if not normalize_answer(answer):
        return [f"'answer' {answer!r} has no words left once punctuation and articles "
                "are removed, so no span could match it"]
    return []


def _is_string_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)


def _to_question(record: dict[str, Any], line: int) -> Question:
    answerable = bool(record["answerable"])
    return Question(
        id=record["id"].strip(),
        question=record["question"],
        lang=record["lang"].strip(),
        answerable=answerable,
        evidence=tuple(record.get("evidence", [])) if answerable else (),
        answer_facts=tuple(record.get("answer_facts", [])) if answerable else (),
        tags=tuple(record.get("tags", [])),
        history=tuple((t["role"], t["content"]) for t in record.get("history", [])),
        answer=record.get("answer") if answerable else None,
        line=line,
    )


def _raise_if(errors: list[str]) -> None:
    if not errors:
        return
    shown = errors[:MAX_ERRORS_SHOWN]
    more = len(errors) - len(shown)
    tail = [f"... and {more} more"] if more else []
    raise QuestionSetError("invalid question set:\n" + "\n".join(shown + tail))
