"""From start/end logits to the best span: hand-made logits, and a brute-force reference."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from assistant.reader.decode import MAX_ANSWER_TOKENS, SpanScore, best_span
from assistant.reader.inputs import CLS, SEP, Window
from assistant.reader.runtime import Reader, ReadPassage


def arr(values: Sequence[float]) -> np.ndarray:
    return np.array(values, dtype=np.float32)


def everywhere(n: int) -> np.ndarray:
    return np.ones(n, dtype=bool)


def reference(start: np.ndarray, end: np.ndarray, mask: np.ndarray, max_tokens: int
              ) -> tuple[float, set[tuple[int, int]]] | None:
    """Best score minus null, and every (i, j) reaching it, by trying all pairs."""
    best, where = -np.inf, set()
    for i in range(1, len(start)):
        for j in range(i, min(len(start), i + max_tokens)):
            if mask[i] and mask[j]:
                score = float(start[i]) + float(end[j])
                if score > best:
                    best, where = score, {(i, j)}
                elif score == best:
                    where.add((i, j))
    if not where:
        return None
    return best - (float(start[0]) + float(end[0])), where


def test_picks_the_best_start_plus_end() -> None:
    start = arr([0.0, 1.0, 5.0, 0.0, 2.0])
    end = arr([0.0, 4.0, 0.0, 3.0, 1.0])
    span = best_span(start, end, everywhere(5))
    # 2 -> 3 scores 8; 1 -> 1 scores 5; 2 -> 1 would be 9 but ends before it starts.
    assert span == SpanScore(2, 3, pytest.approx(8.0))


def test_start_must_not_come_after_end() -> None:
    start = arr([0.0, -5.0, -5.0, 9.0])
    end = arr([0.0, 9.0, -5.0, -5.0])
    span = best_span(start, end, everywhere(4))
    assert span is not None and span.first <= span.last
    assert (span.first, span.last) == (1, 1)
    assert span.score == pytest.approx(4.0)


def test_a_single_token_span_is_allowed() -> None:
    span = best_span(arr([0, 0, 3, 0]), arr([0, 0, 3, 0]), everywhere(4))
    assert span == SpanScore(2, 2, pytest.approx(6.0))


def test_respects_the_maximum_length() -> None:
    n = 40
    start, end = np.zeros(n, dtype=np.float32), np.zeros(n, dtype=np.float32)
    start[1], end[30] = 10.0, 10.0  # the best pair is 30 tokens long
    # Exactly max_tokens long is allowed; one more is not.
    assert best_span(start, end, everywhere(n), max_tokens=30) == SpanScore(1, 30, 20.0)
    for max_tokens in (29, MAX_ANSWER_TOKENS, 1):
        span = best_span(start, end, everywhere(n), max_tokens=max_tokens)
        assert span is not None and span.last - span.first + 1 <= max_tokens
        assert span.score == pytest.approx(10.0)
    assert best_span(start, end, everywhere(n)) == best_span(start, end, everywhere(n),
                                                             MAX_ANSWER_TOKENS)
    short = best_span(start, end, everywhere(n), max_tokens=1)
    assert short is not None and short.first == short.last


def test_respects_the_mask() -> None:
    start = arr([0.0, 9.0, 1.0, 0.0, 0.0, 2.0])
    end = arr([0.0, 0.0, 1.0, 9.0, 0.0, 2.0])
    mask = np.array([True, False, True, False, True, True])
    before = mask.copy()
    span = best_span(start, end, mask)
    assert span is not None and mask[span.first] and mask[span.last]
    assert (span.first, span.last) == (5, 5)
    assert span.score == pytest.approx(4.0)
    assert (mask == before).all(), "the caller's mask is not changed"


def test_the_length_counts_masked_tokens_inside_the_span() -> None:
    start, end = arr([0, 5, 0, 0, 0]), arr([0, 0, 0, 0, 5])
    mask = np.array([True, True, False, False, True])
    short = best_span(start, end, mask, max_tokens=3)
    assert short is not None and short.score == 5.0
    assert (short.first, short.last) in {(1, 1), (4, 4)}
    assert best_span(start, end, mask, max_tokens=4) == SpanScore(1, 4, 10.0)


def test_position_0_is_no_answer_not_a_span() -> None:
    start = arr([50.0, 1.0, 2.0])
    end = arr([50.0, 3.0, 1.0])
    span = best_span(start, end, everywhere(3))
    assert span is not None and span.first > 0
    assert (span.first, span.last) == (1, 1)
    assert span.score == pytest.approx(4.0 - 100.0), "best span minus the null score"
    # The null score is position 0's even when the mask leaves position 0 out.
    no_zero = np.array([False, True, True])
    assert best_span(start, end, no_zero) == span


def test_score_is_positive_when_a_span_beats_no_answer() -> None:
    span = best_span(arr([-1.0, 2.0, 0.0]), arr([-2.0, 0.0, 3.0]), everywhere(3))
    assert span == SpanScore(1, 2, pytest.approx(5.0 + 3.0))


@pytest.mark.parametrize("mask", [[True], [True, False, False], [False, False, False],
                                  [False]])
def test_none_when_nothing_is_allowed(mask: list[bool]) -> None:
    n = len(mask)
    assert best_span(np.ones(n, np.float32), np.ones(n, np.float32),
                     np.array(mask, dtype=bool)) is None


def test_agrees_with_brute_force_on_random_logits() -> None:
    rng = np.random.default_rng(7)
    for trial in range(300):
        n = int(rng.integers(1, 60))
        start = rng.normal(size=n).astype(np.float32)
        end = rng.normal(size=n).astype(np.float32)
        if trial % 3 == 0:  # ties
            start, end = np.round(start), np.round(end)
        mask = rng.random(n) < rng.uniform(0.1, 1.0)
        max_tokens = int(rng.integers(1, 30))
        got = best_span(start, end, mask, max_tokens)
        want = reference(start, end, mask, max_tokens)
        if want is None:
            assert got is None
            continue
        assert got is not None
        score, where = want
        assert (got.first, got.last) in where
        assert got.score == pytest.approx(score, abs=1e-5)


# ------------------------------------------------------------------ over windows


class _Windows:
    """A tokenizer stand-in: the given windows for each passage text."""

    def __init__(self, windows: dict[str, list[Window]]) -> None:
        self._windows = windows

    def windows(self, question: str, passage: str) -> list[Window]:
        return self._windows[passage]


def _reader(windows: dict[str, list[Window]], logits: list[np.ndarray]) -> Reader:
    reader = Reader.__new__(Reader)  # no model: windows and logits are given
    reader.tokenizer = _Windows(windows)  # type: ignore[assignment]

    def fake_logits(ws: Sequence[Window]) -> np.ndarray:
        width = max(len(w.ids) for w in ws)
        out = np.full((len(ws), width, 2), -30.0, dtype=np.float32)
        for row, rows in enumerate(logits[: len(ws)]):
            out[row, : len(rows)] = rows
        return out

    reader.logits = fake_logits  # type: ignore[method-assign]
    return reader


def _logits(n: int, first: int, last: int, value: float) -> np.ndarray:
    out = np.zeros((n, 2), dtype=np.float32)
    out[first, 0] = out[last, 1] = value
    return out


def test_read_returns_the_best_span_over_windows_in_document_offsets() -> None:
    a = "Kata pertama saja."
    b = "Menteri Tony Blair berkata."
    wa = Window(a, (CLS, 9, SEP, 10, 11, 12, SEP),
                ((-1, -1),) * 3 + ((0, 4), (4, 12), (12, 18)) + ((-1, -1),))
    wb = Window(b, (CLS, 9, SEP, 20, 21, 22, 23, SEP),
                ((-1, -1),) * 3 + ((0, 7), (7, 12), (12, 18), (18, 27)) + ((-1, -1),))
    reader = _reader({a: [wa], b: [wb]}, [_logits(7, 3, 3, 2.0), _logits(8, 4, 5, 4.0)])
    reading = reader.read("Siapa?", [ReadPassage("d", a, 100), ReadPassage("d", b, 500)])
    assert reading is not None and reading.has_span
    assert (reading.passage, reading.text) == (1, "Tony Blair")
    assert (reading.start, reading.end) == (500 + 8, 500 + 18)
    assert reading.answerability == pytest.approx(8.0)


def test_a_whitespace_only_span_does_not_hide_a_real_one() -> None:
    a = "Lion Air RI - 020 rute"  # "... -", "▁", "020": the lone "▁" is the space at 13
    b = "Menteri Tony Blair berkata."
    wa = Window(a, (CLS, 9, SEP, 10, 11, 12, 13, 6, 14, 15, SEP),
                ((-1, -1),) * 3 + ((0, 4), (4, 8), (8, 11), (11, 13), (13, 14), (14, 17),
                                   (17, 22)) + ((-1, -1),))
    wb = Window(b, (CLS, 9, SEP, 20, 21, 22, 23, SEP),
                ((-1, -1),) * 3 + ((0, 7), (7, 12), (12, 18), (18, 27)) + ((-1, -1),))
    assert a[13:14] == " " and a[14:17] == "020"
    reader = _reader({a: [wa], b: [wb]}, [_logits(11, 7, 7, 5.0), _logits(8, 4, 5, 4.0)])
    reading = reader.read("Siapa?", [ReadPassage("d", a, 0), ReadPassage("d", b, 500)])
    assert reading is not None
    assert reading.has_span and reading.text == "Tony Blair"
