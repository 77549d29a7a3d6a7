"""The reader's own Unigram tokeniser gives exactly the ``tokenizers`` library's ids and
offsets (the converted ``tokenizer.json`` run without its normaliser), on both corpora's
text, on questions in both languages, and on input built to hit the edge cases: unknown
characters (fused into one ``<unk>``), literal special tokens, a leading space."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from assistant.reader.convert import ensure_converted
from assistant.reader.inputs import PASSAGE_PREFIX, QUERY_PREFIX, ReaderTokenizer
from assistant.reader.unigram import TABLES, VOCAB, UnigramTokenizer
from eval.questionset import load_question_set, shipped_sets

ROOT = Path(__file__).resolve().parents[2]
CORPORA = (ROOT / "index" / "corpus", ROOT / "eval" / "corpora")
EDGES = [
    "a<s>b", "<unk><mask></s>", " leading space", "日本語のテキスト",
    "🜁🜂🜃 three unknowns in a row", "emoji 😀😀 twice", "\u2581already marked",
    "x", "tab\there", "Київ і Москва", "Rp 8.000,- per liter (3,5%)",
]


def _paragraphs() -> list[str]:
    out: list[str] = []
    for folder in CORPORA:
        for path in sorted(folder.rglob("*.txt")):
            out += [p for p in path.read_text(encoding="utf-8").split("\n") if p.strip()]
    for name in shipped_sets():  # questions in both languages
        out += [q.question for q in load_question_set(name).questions]
    return out


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_converted(tmp_path_factory.mktemp("reader-cache"))


@pytest.fixture(scope="module")
def library(model_dir: Path) -> Any:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tok.normalizer = None  # both sides get the same normalised text
    return tok


def test_ids_and_offsets_equal_the_library(model_dir: Path, library: Any) -> None:
    reader, tok = ReaderTokenizer(model_dir / "tokenizer.json"), UnigramTokenizer(model_dir)
    texts = _paragraphs() + EDGES
    assert len(texts) > 1000
    for text in texts:
        for prefix in (QUERY_PREFIX, PASSAGE_PREFIX, ""):
            normalized, _ = reader.normalize(prefix + text)
            want = library.encode(normalized, add_special_tokens=False)
            ids, offsets = tok.encode(normalized)
            assert ids == list(want.ids), normalized
            assert offsets == [tuple(o) for o in want.offsets], normalized


def test_unknown_characters_fuse_into_one_unk(model_dir: Path) -> None:
    tok = UnigramTokenizer(model_dir)
    ids, offsets = tok.encode("\U0001f701\U0001f702\U0001f703 ok")
    assert ids.count(tok.unk) == 1
    unk = ids.index(tok.unk)
    assert offsets[unk] == (0, 3)


def test_tables_are_rebuilt_when_missing_and_refused_when_stale(model_dir: Path) -> None:
    (model_dir / TABLES).unlink()
    (model_dir / VOCAB).write_text("truncated", encoding="utf-8")
    ids, _ = UnigramTokenizer(model_dir).encode("Siapa direktur Bulog?")
    assert len(ids) > 3  # the truncated vocabulary was replaced, not used
    meta = json.loads((model_dir / TABLES).read_text(encoding="utf-8"))
    (model_dir / TABLES).write_text(json.dumps({**meta, "version": 0}), encoding="utf-8")
    with pytest.raises(ValueError, match="delete it"):
        UnigramTokenizer(model_dir)
    (model_dir / TABLES).unlink()
