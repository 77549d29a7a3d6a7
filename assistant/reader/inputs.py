"""Reader inputs: a question and a passage window as one token sequence, with the
character offsets that map a predicted token span back to the passage text.

The sequence is ``<s> query: QUESTION </s></s> passage: WINDOW </s>``, the e5 prefixes
kept so the converted model sees text the way it was trained to. Only the window's own
tokens (not its prefix) may start or end a span; position 0 (``<s>``) stands for "no
answer", as in SQuAD 2.0 readers.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from assistant.reader.unigram import UnigramTokenizer

CLS, PAD, SEP = 0, 1, 2
QUERY_PREFIX, PASSAGE_PREFIX = "query: ", "passage: "
MAX_QUESTION_TOKENS = 48
MAX_WINDOW_TOKENS = 160
WINDOW_STRIDE = 96


@dataclass(frozen=True)
class Window:
    """One reader input: token ids, and for each token its character span in ``text``
    (``(-1, -1)`` for tokens that cannot be part of an answer)."""

    text: str
    ids: tuple[int, ...]
    offsets: tuple[tuple[int, int], ...]

    @property
    def answer_mask(self) -> np.ndarray:
        """True where a span may start or end (window tokens with visible text) and at
        position 0."""
        text = self.text
        mask = np.array([s >= 0 and _visible(text, s, e) for s, e in self.offsets],
                        dtype=bool)
        mask[0] = True
        return mask

    def char_span(self, first: int, last: int) -> tuple[int, int]:
        """Character offsets in ``text`` of tokens ``first..last``, whitespace trimmed."""
        start, end = self.offsets[first][0], self.offsets[last][1]
        while start < end and _blank(self.text[start]):
            start += 1
        while end > start and _blank(self.text[end - 1]):
            end -= 1
        return start, end

    def token_span(self, start: int, end: int) -> tuple[int, int] | None:
        """Tokens covering characters ``start..end`` of ``text``; None if not inside."""
        first = last = None
        for i, (s, e) in enumerate(self.offsets):
            if s < 0 or e <= start or s >= end:
                continue
            first = i if first is None else first
            last = i
        return (first, last) if first is not None and last is not None else None


# Characters e5's normaliser turns into a space though str.isspace() says otherwise.
_INVISIBLE = frozenset("\u200b\u200c\u200d\u200e\u200f\ufeff\ufffd\u2581")


def _blank(ch: str) -> bool:
    return ch.isspace() or ch in _INVISIBLE


def _visible(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` has a character that is not blank (stops at the
    first: most tokens' text is visible from its first or second character)."""
    return any(not _blank(ch) for ch in text[start:end])


@dataclass(frozen=True)
class _PassageTokens:
    """A passage tokenised once: its prefix's ids, then its own tokens."""

    prefix_ids: tuple[int, ...]
    ids: tuple[int, ...]
    offsets: tuple[tuple[int, int], ...]


class ReaderTokenizer:
    """e5's tokenisation with character offsets, for ``tokenizer.json``'s model directory.

    The converted tokenizer's normaliser is e5's character map as some 2,700 ``Replace``
    steps: exact, but about 25 ms per KB of text. The same map applied here in one pass
    (a dict lookup per character, keeping where each output character came from) gives
    the same text in about 1% of the time; the pieces come from ``UnigramTokenizer``,
    which costs a fifth of the memory of the ``tokenizers`` library's model.
    """

    def __init__(self, path: Path) -> None:
        self._tok = UnigramTokenizer(path.parent)
        self._map = self._tok.char_map

    def normalize(self, text: str) -> tuple[str, list[int]]:
        """e5's normalised text, and for each of its characters the source index."""
        out: list[str] = []
        source: list[int] = []
        for i, ch in enumerate(text):
            mapped = self._map.get(ch, ch)
            for piece in mapped:
                if piece == " " and out and out[-1] == " ":
                    continue  # runs of spaces collapse to one
                out.append(piece)
                source.append(i)
        return "".join(out), source

    def pieces(self, text: str, prefix: str, specials: bool = True,
               ) -> tuple[list[int], list[tuple[int, int]]]:
        """Ids and offsets in ``text`` of ``prefix + text``; prefix tokens get (-1, -1)."""
        normalized, source = self.normalize(prefix + text)
        ids, spans = self._tok.encode(normalized, specials)
        source.append(len(prefix + text))
        offsets = []
        cut = len(prefix)
        for s_norm, e_norm in spans:
            s = source[s_norm]
            e = source[e_norm - 1] + 1 if e_norm > s_norm else s
            # The first word's piece starts at the prefix's trailing space ("▁Perdana").
            offsets.append((max(s, cut) - cut, e - cut) if e > cut else (-1, -1))
        return ids, offsets

    @lru_cache(maxsize=1024)  # noqa: B019 - one tokenizer per process; questions repeat
    def question(self, question: str) -> tuple[int, ...]:
        ids, _ = self.pieces(question, QUERY_PREFIX)
        return tuple(ids[:MAX_QUESTION_TOKENS])

    # A server reads the same passages' best sentences for many questions: tokenising
    # three of about 270 characters took 0.7 ms, against 0.02 ms cached. 128 passages
    # of about 100 tokens hold about 2 MB.
    @lru_cache(maxsize=128)  # noqa: B019 - one tokenizer per process
    def _passage(self, passage: str) -> _PassageTokens:
        ids, offsets = self.pieces(passage, PASSAGE_PREFIX)
        # The prefix tokens stay at the front of every window, as e5 expects.
        n = next((i for i, (s, _) in enumerate(offsets) if s >= 0), len(ids))
        return _PassageTokens(tuple(ids[:n]), tuple(ids[n:]), tuple(offsets[n:]))

    def windows(self, question: str, passage: str, max_tokens: int = MAX_WINDOW_TOKENS,
                stride: int = WINDOW_STRIDE) -> list[Window]:
        """The passage cut into windows of at most ``max_tokens`` tokens, overlapping."""
        head = (CLS, *self.question(question), SEP, SEP)
        tokens = self._passage(passage)
        lead = len(head) + len(tokens.prefix_ids)
        out, begin = [], 0
        while True:
            part = slice(begin, begin + max_tokens)
            out.append(Window(
                passage, (*head, *tokens.prefix_ids, *tokens.ids[part], SEP),
                ((-1, -1),) * lead + tokens.offsets[part] + ((-1, -1),)))
            if begin + max_tokens >= len(tokens.ids):
                return out
            begin += stride


def batch(windows: list[Window]) -> tuple[np.ndarray, np.ndarray]:
    """Padded ids and attention mask (int64), one row per window."""
    width = max(len(w.ids) for w in windows)
    ids = np.full((len(windows), width), PAD, dtype=np.int64)
    mask = np.zeros((len(windows), width), dtype=np.int64)
    for row, w in enumerate(windows):
        ids[row, : len(w.ids)] = w.ids
        mask[row, : len(w.ids)] = 1
    return ids, mask
