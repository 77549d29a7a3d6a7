"""``python -m eval.bench.kept``: what a serving process's bounded caches hold, counted
with ``tracemalloc`` (the README's table "What a server keeps, and how much at most").

- chunks: every chunk of the 300-document bench archive (``eval.bench.warm``), indexed
  with hash vectors of e5's size, kept by the retriever as a question would keep them;
  the cache's own estimate beside what was allocated;
- the reader's tokeniser: 10,000 new words, then 1,024 new questions;
- the rate limiter: 10,000 client addresses.
"""

from __future__ import annotations

import json
import tempfile
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


def traced_bytes(work: Callable[[], Any]) -> tuple[int, Any]:
    """Bytes that ``work()`` left allocated (``tracemalloc``), and its result."""
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        result = work()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    return sum(d.size_diff for d in after.compare_to(before, "filename")), result


def chunk_bytes(home: Path, docs: Sequence[Any]) -> dict[str, int]:
    """Every chunk of ``docs`` kept by a retriever: its estimate and what it allocated."""
    from assistant.retrieval import PassageRetriever
    from assistant.service import TanyaService
    from assistant.settings import Settings
    from index.embedders import HashEmbedder

    embedder = HashEmbedder(384)  # e5's size: the vectors cost what e5's would
    service = TanyaService(Settings(home=home, embedder="hash:384", reader="off"),
                           embedder=embedder)
    service.build(list(docs))
    generation = service.manifest().generation
    ids = service.store.chunk_ids(generation)
    retriever = PassageRetriever(service.store, generation, cache_bytes=2**40)
    # The retriever's own fetch-and-keep step: what is measured is what it keeps.
    traced, kept = traced_bytes(lambda: len(retriever._chunks(ids)))
    cache = retriever._cache
    return {"chunks": kept, "estimated": cache.nbytes, "traced": traced}


def tokeniser_bytes(cache_dir: Path, words: int = 10_000, questions: int = 1_024
                    ) -> dict[str, int]:
    """What the reader's tokeniser keeps for ``words`` new words, then ``questions`` new
    questions (their new words included)."""
    from assistant.reader.convert import ensure_converted
    from assistant.reader.inputs import QUERY_PREFIX, ReaderTokenizer

    tokenizer = ReaderTokenizer(ensure_converted(cache_dir) / "tokenizer.json")
    tokenizer.pieces("warm", QUERY_PREFIX)  # tables mapped before counting
    # One new word per question, as a new number in a question would be.
    word_bytes, _ = traced_bytes(lambda: _each(
        range(words), lambda i: tokenizer.pieces(f"Apa tuntutan Kyiv? ({i})", QUERY_PREFIX)))
    question_bytes, _ = traced_bytes(lambda: _each(
        range(questions), lambda i: tokenizer.question(f"Apa jaminan nomor {i}?")))
    return {"words": words, "word_bytes": word_bytes, "questions": questions,
            "question_bytes": question_bytes}


def limiter_bytes(clients: int = 10_000) -> dict[str, int]:
    from assistant.ratelimit import RateLimiter

    limiter = RateLimiter(120, clock=lambda: 0.0, max_clients=clients)
    traced, _ = traced_bytes(lambda: _each(
        range(clients), lambda i: limiter.acquire(f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}")))
    return {"clients": limiter.tracked, "bytes": traced}


def _each(items: range, call: Callable[[int], Any]) -> None:
    """``call`` each item, keeping none of the results (they would be counted)."""
    for i in items:
        call(i)


def main() -> None:
    from assistant.settings import Settings
    from eval.bench.warm import archive_documents

    with tempfile.TemporaryDirectory(prefix="tanya-kept-") as tmp:
        result = {"chunks": chunk_bytes(Path(tmp), archive_documents()),
                  "tokeniser": tokeniser_bytes(Settings().cache_dir),
                  "rate_limiter": limiter_bytes()}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
