"""Build the news-archive question sets from FacQA: ``python -m eval.archive``.

For a split (``dev`` or ``test``, see ``assistant.reader.data``) its passages are halved
by a hash: one half becomes the corpus (one document per passage), and the other half's
questions become unanswerable ones, kept only when their answer occurs in no indexed
passage (as FacQA's README suggests). Each question comes in Indonesian and in the
project's English translation. Writes ``eval/questionsets/archive-SPLIT.jsonl`` and
``eval/corpora/archive-SPLIT/*.id.txt``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.reader import DEFAULT_FACQA
from assistant.reader.data import QA, contains, load_facqa
from index.chunking import split_sentences

EVAL_DIR = Path(__file__).parent


def _indexed(passage: str) -> bool:
    return int(hashlib.sha256(f"archive:{passage}".encode()).hexdigest(), 16) % 2 == 0


def doc_name(passage: str) -> str:
    return "kompas-" + hashlib.sha256(passage.encode()).hexdigest()[:10]


def evidence_sentence(r: QA) -> str:
    """The passage's sentence that holds the answer (the whole passage if none does)."""
    for s in split_sentences(r.passage):
        if s.start <= r.answer_start < s.end:
            return s.text
    return r.passage


def archive_records(records: Sequence[QA]) -> tuple[list[dict[str, Any]], list[str]]:
    """The question records and the corpus passages for one split's records."""
    corpus = sorted({r.passage for r in records if _indexed(r.passage)})
    out: list[dict[str, Any]] = []
    for r in sorted(records, key=lambda r: (r.id, r.lang)):
        base = {"id": f"{r.lang}-{r.id}", "lang": r.lang, "question": r.question}
        if _indexed(r.passage):
            out.append({**base, "answerable": True, "evidence": [evidence_sentence(r)],
                        "answer_facts": [r.answer], "answer": r.answer,
                        "tags": ["facqa", f"pair:{r.id}"]})
        elif not any(contains(p, r.answer) for p in corpus):
            out.append({**base, "answerable": False, "tags": ["facqa", f"pair:{r.id}"]})
    # Only questions that have both language versions, so the languages compare.
    pairs: dict[str, int] = {}
    for q in out:
        pairs[q["tags"][1]] = pairs.get(q["tags"][1], 0) + 1
    return [q for q in out if pairs[q["tags"][1]] == 2], corpus


def write_split(facqa: Path, split: str, eval_dir: Path = EVAL_DIR) -> tuple[int, int]:
    records = [r for r in load_facqa(facqa) if r.split == split]
    questions, corpus = archive_records(records)
    set_path = eval_dir / "questionsets" / f"archive-{split}.jsonl"
    set_path.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in questions),
                        encoding="utf-8")
    folder = eval_dir / "corpora" / f"archive-{split}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for passage in corpus:
        (folder / f"{doc_name(passage)}.id.txt").write_text(passage + "\n", encoding="utf-8")
    return len(questions), len(corpus)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.archive", description=__doc__)
    parser.add_argument("--facqa", type=Path, default=DEFAULT_FACQA)
    args = parser.parse_args(argv)
    for split in ("dev", "test"):
        n, docs = write_split(args.facqa, split)
        print(f"archive-{split}: {n} questions over {docs} documents")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
