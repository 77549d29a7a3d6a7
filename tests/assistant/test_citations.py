from assistant.citations import markers, verify_markers
from assistant.types import Passage


def _passage(rank: int) -> Passage:
    return Passage(rank, f"d:{rank}", "d", "T", "S", rank, rank * 100, rank * 100 + 50,
                   "x" * 50, 0.5)


def test_invented_and_out_of_range_markers_are_dropped_and_reported():
    passages = [_passage(1), _passage(2)]
    text, citations, warnings = verify_markers(
        "Kyiv wants guarantees [2] and more [9]. Also [1] and again [2].", passages,
        lambda p: ("q", p.start, p.start + 1, 1.0))
    assert text == "Kyiv wants guarantees [1] and more. Also [2] and again [1]."
    assert [(c.n, c.passage_rank) for c in citations] == [(1, 2), (2, 1)]
    assert warnings == ["dropped citation [9]: no retrieved passage has that number"]
    assert markers(text) == [1, 2, 1]
