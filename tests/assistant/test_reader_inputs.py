"""The reader's inputs: the fast one-pass normaliser gives the converted tokenizer's exact
ids, offsets map every token back to the passage, and windows cover long passages with
only passage tokens (and position 0) allowed in an answer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant.reader.convert import ensure_converted
from assistant.reader.inputs import (
    CLS,
    MAX_QUESTION_TOKENS,
    MAX_WINDOW_TOKENS,
    PASSAGE_PREFIX,
    QUERY_PREFIX,
    SEP,
    WINDOW_STRIDE,
    ReaderTokenizer,
    Window,
    batch,
)
from tests.support.facqa import FACQA

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "index" / "corpus"
FACQA_RECORDS = 80  # enough variety; the exact (slow) normaliser costs ~25 ms per KB

TEXTS = [
    "Perdana Menteri Inggris Tony Blair mengatakan pada hari Senin bahwa Inggris siap.",
    "Amerika Serikat menawarkan kepada Ukraina sistem jaminan keamanan.",
    "The United States offered Ukraine a security guarantee similar to NATO's Article Five.",
    "What did Kyiv demand in return for a ceasefire?",
    "line one\nline two\n\nline four\r\nwindows line",
    "double  spaces   and    more     spaces",
    "tabs\tand\t\ttabs",
    "non\u00a0breaking\u00a0space and\u202fnarrow\u2007figure",
    "zero\u200bwidth\u200cjoiner\u200dmarks\ufeffand BOM",
    "\u200bleading zero width",
    "ＦＵＬＬＷＩＤＴＨ letters ａｎｄ digits １２３ and an ideographic\u3000space",
    "control\x00chars\x07here\x1fand\x7fthere\x0bvt\x0cff",
    "Café, naïve, résumé, coöperate and combining e\u0301 accents.",
    "soft\u00adhyphen, em—dash, en–dash, ellipsis… and “quotes”.",
    "Emoji 😀 and symbols ™ © ½ ① are handled too.",
    "Mixed scripts: Київ, Москва, 東京, القاهرة, Αθήνα.",
    "Prices rose 3.5% in Q3 2024 (year-on-year), to Rp 8.000 per liter.",
    "(AFP / OKI) Lion Air RI - 020 rute Jakarta",
    "   leading and trailing whitespace   ",
    "x",
    "",
    "   ",
    "Apa tuntutan Kyiv <s> soal Memorandum Budapest?",
]


def _article() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(CORPUS.glob("*.txt")))


def _facqa() -> list[dict[str, Any]]:
    if not FACQA.is_file():
        pytest.skip(f"{FACQA} is missing: the FacQA part of this check is skipped")
    with FACQA.open(encoding="utf-8") as f:
        return [json.loads(line) for _, line in zip(range(FACQA_RECORDS), f, strict=False)]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_converted(tmp_path_factory.mktemp("reader-cache"))


@pytest.fixture(scope="module")
def tokenizer(model_dir: Path) -> ReaderTokenizer:
    return ReaderTokenizer(model_dir / "tokenizer.json")


@pytest.fixture(scope="module")
def exact(model_dir: Path) -> Any:
    """The converted tokenizer as saved, with its exact (slow) normaliser."""
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(model_dir / "tokenizer.json"))


@pytest.fixture(scope="module")
def metaspace(exact: Any) -> int:
    """The id of the lone "▁" piece (before digits, brackets, ...)."""
    return int(exact.token_to_id("\u2581"))


def _assert_same_ids(tokenizer: ReaderTokenizer, exact: Any, texts: list[str]) -> None:
    for text in texts:
        for prefix in (QUERY_PREFIX, PASSAGE_PREFIX):
            ids, offsets = tokenizer.pieces(text, prefix)
            want = exact.encode(prefix + text, add_special_tokens=False).ids
            assert ids == want, (prefix, text)
            assert len(offsets) == len(ids)


def _assert_offsets_map_back(tokenizer: ReaderTokenizer, text: str, ids: list[int],
                             offsets: list[tuple[int, int]], metaspace: int,
                             covered: np.ndarray | None = None) -> None:
    """Each body token's span is real text, the spans are in order without overlap, and
    only whitespace (or characters the normaliser deletes) is left between them.

    With ``covered`` (windows: each holds part of the text) the covered characters are
    recorded there and the caller checks the coverage of all of them."""
    check_cover = covered is None
    if covered is None:
        covered = np.zeros(len(text), dtype=bool)
    previous_end = 0
    for token, (s, e) in zip(ids, offsets, strict=True):
        if s < 0:
            assert e < 0
            continue
        assert 0 <= s < e <= len(text), (s, e)
        assert s >= previous_end, f"token spans overlap at {s} in {text!r}"
        previous_end = e
        covered[s:e] = True
        if token == metaspace:
            # The lone "▁" piece (before digits, brackets, ...) is one character that the
            # normaliser turns into a space: a space, NBSP, but also U+200B or U+FEFF.
            assert e == s + 1 and tokenizer.normalize(text[s:e])[0] == " ", (s, e, text)
        else:
            assert text[s:e].strip(), (token, s, e, text)
    if check_cover:
        _assert_covered(tokenizer, text, covered)


def _assert_covered(tokenizer: ReaderTokenizer, text: str, covered: np.ndarray) -> None:
    left = [ch for ch, seen in zip(text, covered, strict=True) if not seen]
    assert all(not tokenizer.normalize(ch)[0].strip() for ch in left), (left, text)


def _passage_offsets(w: Window) -> list[tuple[int, int]]:
    return [o for o in w.offsets if o[0] >= 0]


# ------------------------------------------------------------------ ids


def test_pieces_give_the_exact_tokenizers_ids_on_varied_texts(
        tokenizer: ReaderTokenizer, exact: Any) -> None:
    _assert_same_ids(tokenizer, exact, [*TEXTS, _article()[:2500]])


def test_pieces_give_the_exact_tokenizers_ids_on_facqa(
        tokenizer: ReaderTokenizer, exact: Any) -> None:
    records = _facqa()
    assert len(records) == FACQA_RECORDS
    _assert_same_ids(tokenizer, exact, [r["passage"] for r in records]
                     + [r["question"] for r in records])


def test_normalize_maps_each_character_to_its_source(tokenizer: ReaderTokenizer) -> None:
    text = "Ａ  b\u00a0\u00a0c\u200bd"
    normalized, source = tokenizer.normalize(text)
    assert len(source) == len(normalized)
    assert source == sorted(source) and all(0 <= i < len(text) for i in source)
    assert "  " not in normalized
    assert normalized.replace(" ", "").lower().startswith("ab")


# ------------------------------------------------------------------ offsets


@pytest.mark.parametrize("prefix", [PASSAGE_PREFIX, QUERY_PREFIX])
def test_offsets_map_back_to_the_text(tokenizer: ReaderTokenizer, metaspace: int,
                                      prefix: str) -> None:
    for text in [*TEXTS, _article()]:
        ids, offsets = tokenizer.pieces(text, prefix)
        _assert_offsets_map_back(tokenizer, text, ids, offsets, metaspace)


def test_offsets_map_back_on_facqa(tokenizer: ReaderTokenizer, metaspace: int) -> None:
    for record in _facqa():
        text = record["passage"]
        ids, offsets = tokenizer.pieces(text, PASSAGE_PREFIX)
        _assert_offsets_map_back(tokenizer, text, ids, offsets, metaspace)


def test_prefix_tokens_have_no_offsets(tokenizer: ReaderTokenizer) -> None:
    for prefix in (PASSAGE_PREFIX, QUERY_PREFIX):
        alone, _ = tokenizer.pieces("", prefix)
        ids, offsets = tokenizer.pieces("Tony Blair", prefix)
        assert ids[: len(alone) - 1] == alone[:-1]  # the prefix, less its trailing "▁"
        assert all(o == (-1, -1) for o in offsets[: len(alone) - 1])
        assert offsets[len(alone) - 1][0] == 0  # "▁Tony": the first word starts at 0
        assert tokenizer.pieces("   ", prefix)[1] == [(-1, -1)] * len(alone)


def test_window_offsets_map_back(tokenizer: ReaderTokenizer, metaspace: int) -> None:
    texts = [*TEXTS, _article()]
    for text in texts:
        covered = np.zeros(len(text), dtype=bool)
        for w in tokenizer.windows("Siapa?", text):
            assert w.text == text
            assert len(w.ids) == len(w.offsets)
            _assert_offsets_map_back(tokenizer, text, list(w.ids), list(w.offsets), metaspace,
                                     covered)
        _assert_covered(tokenizer, text, covered)


def test_windows_of_a_passage_read_again_are_the_same(tokenizer: ReaderTokenizer) -> None:
    """The second question over a passage reuses its tokens: the windows after the
    question are what they were."""
    text = _article()
    questions = ("Siapa?", "Apa yang dituntut Kyiv dari Amerika Serikat?")
    first = tokenizer.windows(questions[0], text)
    hits = tokenizer._passage.cache_info().hits
    again = tokenizer.windows(questions[1], text)
    assert tokenizer._passage.cache_info().hits == hits + 1, "the passage was tokenised again"
    # <s> QUESTION </s></s>, then the passage's tokens
    ha, hb = (len(tokenizer.question(q)) + 3 for q in questions)
    assert len(first) == len(again) > 1
    for a, b in zip(first, again, strict=True):
        assert a.ids[ha:] == b.ids[hb:] and a.offsets[ha:] == b.offsets[hb:]
        assert np.array_equal(a.answer_mask[ha:], b.answer_mask[hb:])


# ------------------------------------------------------------------ spans


def test_a_known_answer_round_trips(tokenizer: ReaderTokenizer) -> None:
    passage = ("Perdana Menteri Inggris  Tony Blair\u00a0mengatakan, pemerintahnya tidak "
               "akan mundur.")
    start = passage.index("Tony Blair")
    end = start + len("Tony Blair")
    (w,) = tokenizer.windows("Siapa nama Perdana Menteri Inggris?", passage)
    span = w.token_span(start, end)
    assert span is not None
    first, last = span
    assert w.answer_mask[first] and w.answer_mask[last] and 0 < first <= last
    assert w.char_span(first, last) == (start, end)
    assert passage[slice(*w.char_span(first, last))] == "Tony Blair"
    # Outside the passage's tokens there is no span.
    assert w.token_span(len(passage) + 5, len(passage) + 9) is None


# Visible spaces, and characters e5's normaliser turns into one (zero-width, BOM, marks).
@pytest.mark.parametrize("space", ["\u00a0", "\u3000", "\t", "  \n",
                                   "\u200b", "\ufeff", "\u200e", " \u200b"])
def test_a_known_answer_round_trips_after_any_space(tokenizer: ReaderTokenizer,
                                                    space: str) -> None:
    passage = f"Menteri{space}Tony Blair berkata."
    start = passage.index("Tony")
    (w,) = tokenizer.windows("Siapa?", passage)
    span = w.token_span(start, start + 10)
    assert span is not None and w.char_span(*span) == (start, start + 10)
    assert passage[slice(*w.char_span(*span))] == "Tony Blair"


def test_a_known_answer_round_trips_in_a_later_window(tokenizer: ReaderTokenizer) -> None:
    article = _article()
    passage = f"{article}\nPerdana Menteri Inggris Tony Blair mengatakan hal itu."
    start = passage.rindex("Tony Blair")
    end = start + len("Tony Blair")
    windows = tokenizer.windows("Siapa nama Perdana Menteri Inggris?", passage)
    assert len(windows) > 1
    spans = [(w, w.token_span(start, end)) for w in windows]
    found = [(w, s) for w, s in spans if s is not None]
    assert found and found[-1][0] is windows[-1]
    for w, (first, last) in found:
        assert w.char_span(first, last) == (start, end)


def test_facqa_answers_lie_inside_their_token_spans(tokenizer: ReaderTokenizer) -> None:
    exact = 0
    records = _facqa()
    for r in records:
        start, end = r["answer_start"], r["answer_start"] + len(r["answer"])
        assert r["passage"][start:end] == r["answer"]
        found = False
        for w in tokenizer.windows(r["question"], r["passage"]):
            span = w.token_span(start, end)
            if span is None:
                continue
            s, e = w.char_span(*span)
            whole = w.offsets[span[0]][0] <= start and w.offsets[span[1]][1] >= end
            if whole:
                found = True
                assert s <= start and end <= e, (r["answer"], r["passage"][s:e])
                exact += (s, e) == (start, end)
        assert found, r["answer"]
    assert exact >= 0.9 * len(records)


# ------------------------------------------------------------------ windows


def test_long_passages_are_split_into_overlapping_windows(tokenizer: ReaderTokenizer) -> None:
    passage = _article()
    ids, offsets = tokenizer.pieces(passage, PASSAGE_PREFIX)
    body = [(i, o) for i, o in zip(ids, offsets, strict=True) if o[0] >= 0]
    assert len(body) > 2 * MAX_WINDOW_TOKENS, "the article is long enough to need windows"
    windows = tokenizer.windows("Apa tuntutan Kyiv?", passage)
    assert len(windows) >= 3

    seen: list[tuple[int, int]] = []
    for index, w in enumerate(windows):
        part = _passage_offsets(w)
        assert 0 < len(part) <= MAX_WINDOW_TOKENS
        # Each window is a contiguous run of the passage's body tokens, WINDOW_STRIDE on.
        begin = index * WINDOW_STRIDE
        assert part == [o for _, o in body[begin : begin + len(part)]]
        assert [i for i, o in zip(w.ids, w.offsets, strict=True) if o[0] >= 0] == [
            i for i, _ in body[begin : begin + len(part)]]
        if index:
            assert part[0] in seen, "consecutive windows overlap"
        seen.extend(part)
    assert set(seen) == {o for _, o in body}, "every body token is in some window"
    assert seen[-1] == body[-1][1]


def test_windows_keep_the_question_and_prefix_at_the_front(tokenizer: ReaderTokenizer) -> None:
    question = "Apa tuntutan Kyiv?"
    passage = _article()
    q_ids, _ = tokenizer.pieces(question, QUERY_PREFIX)
    p_ids, p_offsets = tokenizer.pieces(passage, PASSAGE_PREFIX)
    prefix = p_ids[: next(i for i, (s, _) in enumerate(p_offsets) if s >= 0)]
    head = [CLS, *q_ids, SEP, SEP, *prefix]
    for w in tokenizer.windows(question, passage):
        assert list(w.ids[: len(head)]) == head
        assert w.ids[-1] == SEP
        assert all(o == (-1, -1) for o in w.offsets[: len(head)])
        assert w.offsets[-1] == (-1, -1)


INVISIBLE = "\u200b\u200c\u200d\u200e\u200f\ufeff\ufffd\u2581"


def test_only_passage_tokens_and_position_0_are_in_the_answer_mask(
        tokenizer: ReaderTokenizer) -> None:
    question = "Berapa " + "sangat " * 80 + "lama?"  # longer than MAX_QUESTION_TOKENS
    assert len(tokenizer.question(question)) == MAX_QUESTION_TOKENS
    passages = [TEXTS[0], _article(), "", "Lion Air RI - 020"]
    for passage in passages:
        p_ids, p_offsets = tokenizer.pieces(passage, PASSAGE_PREFIX)
        prefix_n = next((i for i, (s, _) in enumerate(p_offsets) if s >= 0), len(p_ids))
        body_start = 1 + MAX_QUESTION_TOKENS + 2 + prefix_n
        for w in tokenizer.windows(question, passage):
            mask = w.answer_mask
            assert mask.dtype == bool and mask.shape == (len(w.ids),)
            assert mask[0]
            assert not mask[1:body_start].any(), "question and prefix tokens are not answers"
            assert not mask[-1], "the closing </s> is not an answer"
            # Body tokens may answer unless they are only (e5's) whitespace: a lone "▁".
            visible = [any(not c.isspace() and c not in INVISIBLE for c in w.text[s:e])
                       for s, e in w.offsets[body_start:-1]]
            assert list(mask[body_start:-1]) == visible
            assert any(visible) == bool(passage.strip())


def test_an_empty_passage_has_one_window_and_no_answer_tokens(
        tokenizer: ReaderTokenizer) -> None:
    (w,) = tokenizer.windows("Siapa?", "")
    assert w.answer_mask.tolist() == [True] + [False] * (len(w.ids) - 1)


def test_batch_pads_and_masks() -> None:
    a = Window("a", (CLS, 10, SEP), ((-1, -1), (0, 1), (-1, -1)))
    b = Window("b c", (CLS, 11, 12, 13, SEP), ((-1, -1),) + ((0, 1),) * 3 + ((-1, -1),))
    ids, mask = batch([a, b])
    assert ids.dtype == mask.dtype == np.int64
    assert ids.tolist() == [[CLS, 10, SEP, 1, 1], [CLS, 11, 12, 13, SEP]]
    assert mask.tolist() == [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]
