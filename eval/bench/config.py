"""How much each benchmark section measures: the default run and ``--quick``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BenchConfig:
    """Counts and bounds for one run. The default takes about 9 minutes on 2 cores."""

    quick: bool = False
    cold_repeats: int = 5
    warm_calls: int = 200
    warm_repeats: int = 3
    http_alone: int = 60
    http_clients: int = 8
    http_seconds: float = 15.0
    http_max_requests: int = 600
    scale_sizes: tuple[int, ...] = (1_000, 3_000, 10_000, 30_000, 100_000)
    scale_queries: int = 200
    #: Whole answers with this many synthetic chunks besides the article's (0: skip).
    answer_scale_chunks: int = 100_000
    answer_scale_calls: int = 200
    #: Build growth points, in chunks (besides the bundled article's own build).
    growth_chunks: tuple[int, ...] = (1_000,)
    #: Add this many articles to an index of that many (0 base articles: skip).
    incremental_base_docs: int = 10_000
    incremental_added: int = 100
    baseline_cold_repeats: int = 3
    quality_questions: int | None = None  # score retrieval on the first N (None: all)

    @classmethod
    def quick_run(cls) -> BenchConfig:
        """A smoke run in about a minute: every section, tiny counts."""
        return cls(quick=True, cold_repeats=2, warm_calls=20, warm_repeats=1, http_alone=5,
                   http_seconds=2.0, http_max_requests=40, scale_sizes=(500, 1_000),
                   scale_queries=30, answer_scale_chunks=2_000, answer_scale_calls=20,
                   growth_chunks=(), incremental_base_docs=50, incremental_added=5,
                   baseline_cold_repeats=0,
                   quality_questions=20)
