"""``python -m eval.bench.kept``: the chunk cache's size estimate is close to what the
kept chunks really allocate, so its 32 MB bound means about 32 MB."""

from __future__ import annotations

from pathlib import Path

from eval.bench.kept import chunk_bytes, limiter_bytes
from index.documents import bundled_documents


def test_the_chunk_estimate_is_within_15_percent_of_what_is_allocated(tmp_path: Path) -> None:
    measured = chunk_bytes(tmp_path / "home", bundled_documents())
    assert measured["chunks"] >= 10  # every chunk of the article was kept
    assert 0.85 <= measured["estimated"] / measured["traced"] <= 1.15


def test_the_rate_limiter_keeps_its_clients_in_a_few_megabytes() -> None:
    measured = limiter_bytes(1_000)
    assert measured["clients"] == 1_000
    assert 0 < measured["bytes"] < 1_000 * 512  # the README's 2.4 MB per 10,000, with room
