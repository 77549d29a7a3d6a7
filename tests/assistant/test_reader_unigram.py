"""The reader's own Unigram tokeniser gives exactly the ``tokenizers`` library's ids and
offsets (the converted ``tokenizer.json`` run without its normaliser), on both corpora's
text, on questions in both languages, and on input built to hit the edge cases: unknown
characters (fused into one ``<unk>``), literal special tokens, a leading space."""

from __future__ import annotations

import json
import mmap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant.reader.convert import ensure_converted
from assistant.reader.inputs import PASSAGE_PREFIX, QUERY_PREFIX, ReaderTokenizer
from assistant.reader.unigram import KEYS, PIECES, TABLES, TABLES_VERSION, UnigramTokenizer
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


def test_tables_are_derived_again_when_missing_stale_or_damaged(model_dir: Path) -> None:
    """Derived data never fails an answer: it is written again from tokenizer.json."""
    question = "Siapa direktur Bulog?"
    want, _ = UnigramTokenizer(model_dir).encode(question)
    assert len(want) > 3

    def check() -> None:
        assert UnigramTokenizer(model_dir).encode(question)[0] == want
        meta = json.loads((model_dir / TABLES).read_text(encoding="utf-8"))
        assert meta["version"] == TABLES_VERSION

    (model_dir / TABLES).unlink()
    check()
    # A cache of the first version: its vocabulary file goes with it.
    meta = json.loads((model_dir / TABLES).read_text(encoding="utf-8"))
    (model_dir / TABLES).write_text(json.dumps({**meta, "version": 1}), encoding="utf-8")
    (model_dir / "reader-vocab.txt").write_text("old", encoding="utf-8")
    check()
    assert not (model_dir / "reader-vocab.txt").exists()
    # Damaged under metadata that says all is well: a truncated blob, a short table.
    pieces = model_dir / PIECES
    pieces.write_bytes(pieces.read_bytes()[:1000])
    check()
    np.save(model_dir / KEYS, np.zeros(3, dtype=np.int64))
    check()


def test_the_tables_are_mapped_not_loaded(model_dir: Path) -> None:
    """A server keeps no copy of the vocabulary: the tables are read-only file mappings
    (pages the kernel can share and drop), not arrays on the heap."""
    tok = UnigramTokenizer(model_dir)
    vocab = tok._vocab
    for table in (vocab._keys, vocab._order, vocab._starts, tok._scores):
        assert isinstance(table.base, mmap.mmap) or isinstance(
            getattr(table.base, "base", None), mmap.mmap)
        assert not table.flags.writeable
    assert isinstance(vocab._blob, mmap.mmap)


def test_its_caches_stay_bounded_however_many_new_words_and_questions(
        model_dir: Path) -> None:
    """A server's tokeniser keeps at most 16,384 words and 1,024 questions (the README's
    table of what a server keeps), however many new ones it is given."""
    reader = ReaderTokenizer(model_dir / "tokenizer.json")
    words, questions = UnigramTokenizer._word, ReaderTokenizer.question
    assert words.cache_info().maxsize == 16_384
    assert questions.cache_info().maxsize == 1_024
    for i in range(16_384 + 50):
        reader.pieces(f"kata{i}x jaminan", QUERY_PREFIX)
    for i in range(1_024 + 50):
        reader.question(f"Apa jaminan {i}?")
    assert words.cache_info().currsize == 16_384
    assert questions.cache_info().currsize == 1_024
