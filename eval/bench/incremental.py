"""Incremental build cost: adding a few articles to a large index, beside the same
articles built alone into an empty store.

The large index is real Chroma rows (every chunk and sentence stored) whose vectors come
from a hash embedder of the model's dimension: what is measured is what the update pays
on top of embedding its own articles, and the base index's embedding is not part of that
(at about 60 s per 1k chunks with the batched encoder, some 20 minutes at 10,000 articles
on every run). The added articles are embedded by the real embedder, both times.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from index.builder import IndexBuilder
from index.chunking import ChunkerConfig
from index.documents import Document, bundled_documents
from index.embedders import HashEmbedder, TanyaEmbeddings
from index.store import ChromaIndex, open_client

#: Paragraphs per synthetic article: a short news item.
_PARAGRAPHS = 3


def run_incremental(embedder: TanyaEmbeddings, base_docs: int,
                    added: int) -> dict[str, Any]:
    """Time adding ``added`` articles to an index of ``base_docs`` articles, and the same
    articles built alone; the ratio is what the large index adds to their cost."""
    docs = _articles(base_docs + added)
    base, new = docs[:base_docs], docs[base_docs:]
    config = ChunkerConfig()
    with tempfile.TemporaryDirectory(prefix="tanya-bench-incremental-") as home:
        store = ChromaIndex(open_client(Path(home)), "incremental")
        started = time.perf_counter()
        built = IndexBuilder(store, _stand_in(embedder), config).build(base)
        base_s = time.perf_counter() - started
        started = time.perf_counter()
        update = IndexBuilder(store, embedder, config).build(docs)
        update_s = time.perf_counter() - started
    if sorted(update.added) != sorted(d.doc_id for d in new) or update.changed:
        raise RuntimeError("the incremental build did not add exactly the new articles")
    with tempfile.TemporaryDirectory(prefix="tanya-bench-incremental-") as home:
        store = ChromaIndex(open_client(Path(home)), "alone")
        started = time.perf_counter()
        alone = IndexBuilder(store, embedder, config).build(new)
        alone_s = time.perf_counter() - started
    if alone.chunks_embedded != update.chunks_embedded:
        raise RuntimeError("the update embedded other chunks than the new articles hold")
    return {"base_docs": base_docs, "base_chunks": built.chunks_embedded,
            "base_build_s_hash_vectors": round(base_s, 1),
            "added_docs": added, "added_chunks": update.chunks_embedded,
            "update_s": round(update_s, 2), "alone_s": round(alone_s, 2),
            "update_over_alone": round(update_s / alone_s, 2) if alone_s else None}


def _stand_in(embedder: TanyaEmbeddings) -> HashEmbedder:
    """A hash embedder that names itself ``embedder``: the index it builds is one the
    real embedder may update (the builder refuses to mix models it can tell apart)."""
    stand_in = HashEmbedder(embedder.dim)
    stand_in.spec = embedder.spec
    return stand_in


def _articles(n: int) -> list[Document]:
    """``n`` short articles cut from the bundled article's paragraphs, each with its own
    id: real text, so chunking and sentence splitting do what they do on news."""
    article = bundled_documents()[0]
    paragraphs = [p for p in article.text.splitlines() if p.strip()]
    docs = []
    for i in range(n):
        start = (i * _PARAGRAPHS) % len(paragraphs)
        body = [paragraphs[(start + j) % len(paragraphs)] for j in range(_PARAGRAPHS)]
        docs.append(Document(f"bench-{i:05d}", f"{article.title} ({i})", article.lang,
                             "\n".join(body), f"bench:incremental{i}"))
    return docs
