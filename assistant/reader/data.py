"""Training and development data for the reader, none of it from the bundled article's
held-out sets.

- FacQA (``../shared/data/facqa/train.jsonl``): Indonesian news questions with answer
  spans. Split by passage (a hash of its text), so no passage is in two splits: 70%
  train, 15% dev (tuning, calibration, the shipped archive set), 15% test (looked at
  once).
- English versions of FacQA questions, translated by the project
  (``assistant/reader/data/facqa-en.jsonl``, keyed by question id).
- Negatives from retrieval: a question against the passages retrieved for it from the
  same split with its own passage withheld, keeping only passages without its answer.
- Longer windows: a passage joined with a retrieved neighbour, so training also sees
  the several-paragraph chunks a real index holds.
- Same-passage negatives (SQuAD 2.0's hardest kind): the question with one of its names
  replaced by a name from another question that the passage never mentions ("Who
  directs Bulog?" asked as "Who directs Pertamina?" of the Bulog passage). Retrieval
  negatives are about something else; these teach that the passage must be about what
  the question names.
- Withheld-sentence negatives: the question against its own passage with the sentence
  that holds the answer taken out. The rest is about the question's subject but does not
  answer it: the on-topic unanswerable question ("who will pay for the force?" of an
  article about the force) that neither kind above looks like.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eval.metrics import normalize
from eval.questionset import Question

DATA_DIR = Path(__file__).parent / "data"
TRANSLATIONS = DATA_DIR / "facqa-en.jsonl"
#: 517 more training questions in English (every FacQA train question then has one),
#: translated after the shipped adapter was trained: ``tanya reader train
#: --extra-english`` adds them (README, "How it is built")
EXTRA_TRANSLATIONS = DATA_DIR / "facqa-en-extra.jsonl"
SPLITS = ("train", "dev", "test")


@dataclass(frozen=True)
class QA:
    """One FacQA question (``lang`` "en" for a translation)."""

    id: str
    lang: str
    question: str
    passage: str
    answer: str
    answer_start: int

    @property
    def split(self) -> str:
        return split_of(self.passage)


@dataclass(frozen=True)
class Example:
    """One reader training example: the answer at ``answer_start`` in ``context``, or
    none (``answer_start`` -1)."""

    question: str
    context: str
    answer_start: int
    answer: str
    source: str

    @property
    def answerable(self) -> bool:
        return self.answer_start >= 0


def question_id(passage: str, question: str) -> str:
    return hashlib.sha256(f"{passage}\x00{question}".encode()).hexdigest()[:12]


def split_of(passage: str) -> str:
    """train / dev / test by a hash of the passage text: stable, and per passage."""
    bucket = int(hashlib.sha256(passage.encode()).hexdigest(), 16) % 20
    return "train" if bucket < 14 else "dev" if bucket < 17 else "test"


def load_facqa(path: Path, translations: Sequence[Path] = (TRANSLATIONS,)) -> list[QA]:
    """FacQA records, each followed by its English version where one of the
    ``translations`` files has it."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]
    english: dict[str, str] = {}
    for file in translations:
        for line in file.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                english[record["key"]] = record["en"]
    out = []
    for r in rows:
        qid = question_id(r["passage"], r["question"])
        out.append(QA(qid, "id", r["question"], r["passage"], r["answer"], r["answer_start"]))
        if qid in english:
            out.append(QA(qid, "en", english[qid], r["passage"], r["answer"],
                          r["answer_start"]))
    return out


# A name: a run of capitalised words (any Latin-script language), not opening the text.
_NAME = re.compile(r"(?<!^)(?<![.?!]\s)\b[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)*")


def names_in(text: str) -> list[str]:
    """Capitalised word runs that do not open the text."""
    return [m.group(0) for m in _NAME.finditer(text)]


def swapped_question(question: str, passage: str, pool: Sequence[str], rng: random.Random
                     ) -> str | None:
    """``question`` with a name the passage mentions replaced by one from ``pool`` it
    never mentions; None when the question names nothing the passage does."""
    known = [n for n in names_in(question) if contains(passage, n)]
    if not known or not pool:
        return None
    name = known[rng.randrange(len(known))]
    for _ in range(10):
        other = pool[rng.randrange(len(pool))]
        words = normalize(other).split()
        if words and not any(w in normalize(passage).split() for w in words):
            return question.replace(name, other, 1)
    return None


def withheld_passage(passage: str, answer_start: int, answer: str) -> str | None:
    """``passage`` without the sentences the answer overlaps; None when nothing would be
    left or the rest still holds the answer."""
    from index.chunking import split_sentences

    end = answer_start + len(answer)
    rest = [s.text for s in split_sentences(passage) if s.end <= answer_start or s.start >= end]
    text = " ".join(rest)
    if not rest or contains(text, answer):
        return None
    return text


def contains(text: str, answer: str) -> bool:
    return normalize(answer) in normalize(text)


def neighbours(own: Sequence[int], embed_q: np.ndarray, embed_p: np.ndarray, k: int
               ) -> list[list[int]]:
    """For each question, the ``k`` closest passages other than its own."""
    sims = embed_q @ embed_p.T
    out = []
    for row, mine in enumerate(own):
        order = [int(i) for i in np.argsort(-sims[row]) if int(i) != mine]
        out.append(order[:k])
    return out


def facqa_examples(records: Sequence[QA], embed_q: np.ndarray, embed_p: np.ndarray,
                   passages: Sequence[str], seed: int, negatives: int = 2,
                   swapped: float = 0.0, withheld: float = 0.0) -> list[Example]:
    """Positives (alone, and joined with a retrieved neighbour), retrieved negatives,
    and for a ``swapped`` share of the records a same-passage negative with a name
    swapped, for a ``withheld`` share one with the answer's sentence taken out.

    ``embed_q`` has one row per record; ``embed_p`` one per entry of ``passages`` (the
    split's passages, which every record's passage is among).
    """
    rng = random.Random(seed)
    index = {p: i for i, p in enumerate(passages)}
    own = [index[r.passage] for r in records]
    near = neighbours(own, embed_q, embed_p, k=negatives + 4)
    # Names some passage mentions: real entities, not capitalised words of a translation.
    pool = sorted({n for r in records for n in names_in(r.question) if contains(r.passage, n)})
    out = []
    for r, candidates in zip(records, near, strict=True):
        out.append(Example(r.question, r.passage, r.answer_start, r.answer, f"facqa-{r.lang}"))
        if swapped and rng.random() < swapped:
            question = swapped_question(r.question, r.passage, pool, rng)
            if question is not None:
                out.append(Example(question, r.passage, -1, "", f"facqa-{r.lang}-swapped"))
        if withheld and rng.random() < withheld:
            rest = withheld_passage(r.passage, r.answer_start, r.answer)
            if rest is not None:
                out.append(Example(r.question, rest, -1, "", f"facqa-{r.lang}-withheld"))
        others = [passages[i] for i in candidates if not contains(passages[i], r.answer)]
        for other in others[:negatives]:
            out.append(Example(r.question, other, -1, "", f"facqa-{r.lang}-negative"))
        if others:
            # The answer's passage beside a distractor, in either order.
            other = others[rng.randrange(len(others))]
            if rng.random() < 0.5:
                out.append(Example(r.question, f"{r.passage} {other}", r.answer_start,
                                   r.answer, f"facqa-{r.lang}-joined"))
            else:
                shift = len(other) + 1
                out.append(Example(r.question, f"{other} {r.passage}", r.answer_start + shift,
                                   r.answer, f"facqa-{r.lang}-joined"))
    return out


def article_examples(questions: Sequence[Question], chunks: Sequence[str],
                     retrieved: Sequence[Sequence[int]]) -> list[Example]:
    """Examples from a question set over an article: the retrieved chunks, answered
    where a chunk holds the question's evidence and its first answer fact, else not.

    Chunks that hold the evidence but not a fact to point at are left out: they answer
    the question, yet give no span to learn.
    """
    out = []
    for q, found in zip(questions, retrieved, strict=True):
        for i in found:
            chunk = chunks[i]
            if not (q.answerable and any(contains(chunk, e) for e in q.evidence)):
                out.append(Example(q.question, chunk, -1, "", "article-negative"))
                continue
            fact = q.answer_facts[0] if q.answer_facts else ""
            start = chunk.casefold().find(fact.casefold()) if fact else -1
            if start >= 0:
                out.append(Example(q.question, chunk, start, chunk[start:start + len(fact)],
                                   "article"))
    return out
