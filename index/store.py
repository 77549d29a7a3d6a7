"""The Chroma store: embedded ``PersistentClient`` or a Chroma server over HTTP.

Chroma's default embedding function downloads a model, so every collection is opened
with ``embedding_function=None`` and vectors always come from our embedders.
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import numpy as np

from index.chunking import Chunk, Sentence
from index.errors import GenerationGoneError, StoreUnavailableError
from index.manifest import Manifest, revision_of

_MANIFESTS = "tanya-manifests"
#: How a split build's generations start (``index.parts``); plain builds' start with "g".
SPLIT_PREFIX = "p"
_BATCH = 1000
# Chroma server requests: connecting fails fast; a reply may take as long as a big upsert.
HTTP_TIMEOUT = httpx.Timeout(30.0, connect=3.0)
#: How long a replaced embedded Chroma system serves the questions in flight on it.
RETIRE_SECONDS = 60.0
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredPassage:
    """A chunk as read back from the store, with its similarity to the query."""

    chunk_id: str
    doc_id: str
    title: str
    lang: str
    section: str
    paragraph: int
    ordinal: int
    start: int
    end: int
    text: str
    score: float
    last_paragraph: int
    #: (start, end, paragraph) of each sentence, in order.
    sentence_spans: tuple[tuple[int, int, int], ...]
    #: The document's metadata, "" when unknown (or indexed before metadata existed).
    url: str = ""
    published: str = ""
    author: str = ""


def open_client(home: Path, chroma_url: str | None = None) -> Any:
    """A Chroma client: HTTP when ``chroma_url`` is set, else embedded under ``home``."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if chroma_url:
        url = urlparse(chroma_url if "://" in chroma_url else f"http://{chroma_url}")
        if not url.hostname:
            raise StoreUnavailableError(f"TANYA_CHROMA_URL {chroma_url!r} has no host")
        port = url.port or (443 if url.scheme == "https" else 8000)
        try:
            # Chroma's client waits forever: probe with a deadline first, then give its
            # session one, so a hung server cannot hold requests (or the service) forever.
            httpx.get(f"{url.scheme}://{url.hostname}:{port}/api/v2/heartbeat",
                      timeout=HTTP_TIMEOUT.connect)
            client: Any = chromadb.HttpClient(host=url.hostname, port=port,
                                              ssl=url.scheme == "https", settings=settings)
        except Exception as exc:  # chromadb raises several types for "cannot connect"
            raise StoreUnavailableError(
                f"cannot reach the Chroma server at {chroma_url}: {exc}. "
                "Start it (`chroma run --path DIR`) or unset TANYA_CHROMA_URL."
            ) from exc
        with contextlib.suppress(AttributeError):  # chromadb internals; best effort
            client._server._session.timeout = HTTP_TIMEOUT
        return client
    path = _embedded_path(home)
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=settings)


def _embedded_path(home: Path) -> Path:
    """Where the embedded store lives; Chroma names its shared system by this path."""
    return home / "chroma"


def reopen_embedded_client(home: Path) -> Any:
    """A new embedded client that sees what other processes stored since this one opened.

    Chroma shares one system per path within a process, and that system's in-memory
    vector index never takes in another process's writes: after a ``tanya index add``
    beside a running ``tanya serve``, the new chunks were stored (counted, listed) but
    never retrieved. Forgetting the shared system makes the next client load the store
    again. The old one serves the questions in flight on it, then is stopped and
    collected (``_retire_later``). Clients of the old system are never ``close()``d:
    chromadb finds a client's system by path, so closing one would release the new one.
    """
    try:  # chromadb internals: there is no public per-path reset
        from chromadb.api.shared_system_client import SharedSystemClient

        lock = SharedSystemClient._refcount_lock
        systems = SharedSystemClient._identifier_to_system
        counts = SharedSystemClient._identifier_to_refcount
    except (ImportError, AttributeError):
        log.warning("this chromadb cannot reopen the embedded store: another process's "
                    "additions are retrieved after a restart")
        return open_client(home)
    identifier = str(_embedded_path(home))
    with lock:
        old = systems.pop(identifier, None)
        counts.pop(identifier, None)
    client = open_client(home)
    if old is not None:
        _retire_later(old)
    return client


def _retire_later(system: Any, seconds: float = RETIRE_SECONDS) -> threading.Timer:
    """Stop a replaced Chroma system once the questions in flight on it are done, then
    collect it: it sits in a reference cycle that only a full collection frees, holding
    its vector index (tens of MB for a large one), files and threads until then."""
    def retire() -> None:
        with contextlib.suppress(Exception):  # already stopped, or half torn down
            system.stop()
        gc.collect()

    timer = threading.Timer(seconds, retire)
    timer.daemon = True
    timer.start()
    return timer


def _batches(n: int, size: int = _BATCH) -> Iterator[slice]:
    for i in range(0, n, size):
        yield slice(i, min(n, i + size))


class ChromaIndex:
    """One named index in a Chroma store: its manifest and its two collections.

    Each generation has a chunk collection (passages, for retrieval) and a sentence
    collection (sentence vectors computed at build time, for extractive answers).
    """

    def __init__(self, client: Any, name: str = "default") -> None:
        self.client = client
        self.name = name
        # Collection handles by generation. Opening one is a store round trip (0.8 ms
        # embedded, a request against a server) and an answer needs four; a generation's
        # collections keep their identity until dropped.
        self._handles: dict[str, tuple[Any, Any]] = {}

    # -- manifest ---------------------------------------------------------------------
    def _manifests(self) -> Any:
        return self.client.get_or_create_collection(_MANIFESTS, embedding_function=None)

    def read_manifest(self) -> Manifest | None:
        got = self._guard(lambda: self._manifests().get(ids=[self.name], include=["documents"]))
        docs = got.get("documents") or []
        return Manifest.from_json(docs[0]) if docs else None

    def write_manifest(self, manifest: Manifest) -> None:
        # Chroma needs a vector per record; the manifest's is a constant placeholder.
        self._guard(lambda: self._manifests().upsert(
            ids=[self.name], documents=[manifest.to_json()], embeddings=[[1.0]]))

    # -- split builds -----------------------------------------------------------------
    # Each worker of a split build records its finished part beside the manifest, under
    # its own id, so workers never overwrite each other's records.
    def write_part(self, generation: str, part: int, parts: int, payload: str) -> None:
        record_id = f"{self.name}/{generation}/part-{part}-of-{parts}"
        self._guard(lambda: self._manifests().upsert(
            ids=[record_id], documents=[payload], embeddings=[[1.0]],
            metadatas=[{"index": self.name, "kind": "part", "generation": generation,
                        "part": part, "parts": parts}]))

    def finished_parts(self, generation: str | None = None) -> list[tuple[str, int, int, str]]:
        """(generation, part, parts, payload) of each finished part of this index's split
        builds (of ``generation`` only, when given)."""
        terms: list[dict[str, Any]] = [{"index": self.name}, {"kind": "part"}]
        if generation is not None:
            terms.append({"generation": generation})
        where = {"$and": terms}
        got = self._guard(lambda: self._manifests().get(
            where=where, include=["documents", "metadatas"]))
        return sorted((str(m["generation"]), int(m["part"]), int(m["parts"]), doc)
                      for doc, m in zip(got["documents"], got["metadatas"], strict=True))

    def forget_parts(self, generation: str) -> None:
        self._guard(lambda: self._manifests().delete(
            where={"$and": [{"index": self.name}, {"kind": "part"},
                            {"generation": generation}]}))

    # -- build progress ---------------------------------------------------------------
    def write_progress(self, operation: str, payload: str) -> None:
        """Record the progress of a running (or the last) ``operation`` (``index.progress``);
        each operation its own record, so the parts of a split build keep theirs."""
        self._guard(lambda: self._manifests().upsert(
            ids=[f"{self.name}/progress/{operation}"], documents=[payload],
            embeddings=[[1.0]], metadatas=[{"index": self.name, "kind": "progress"}]))

    def read_progress(self) -> list[dict[str, Any]]:
        """Every recorded operation's progress, most recently updated first."""
        got = self._guard(lambda: self._manifests().get(
            where={"$and": [{"index": self.name}, {"kind": "progress"}]},
            include=["documents"]))
        records = [dict(json.loads(doc)) for doc in got.get("documents") or []]
        return sorted(records, key=lambda r: -float(r.get("updated_at", 0)))

    def complete_chunks(self, generation: str, chunks: Sequence[Chunk]) -> set[str]:
        """Ids of ``chunks`` stored in ``generation`` with all their sentences (what a
        resumed split build can skip); none while its collections do not both exist."""
        def read() -> set[str]:
            chunk_col, sentence_col = self._collections(generation)
            present: set[str] = set()
            for part in _batches(len(chunks)):
                batch = chunks[part]
                present.update(chunk_col.get(ids=[c.chunk_id for c in batch], include=[])["ids"])
                wanted = [_sentence_id(c.chunk_id, i) for c in batch
                          for i in range(len(c.sentences))]
                present.update(sentence_col.get(ids=wanted, include=[])["ids"])
            return {c.chunk_id for c in chunks if c.chunk_id in present and all(
                _sentence_id(c.chunk_id, i) in present for i in range(len(c.sentences)))}
        try:
            return set(self._guard(read, generation))
        except GenerationGoneError:  # another worker has not created both yet
            return set()

    # -- collections ------------------------------------------------------------------
    def collection_names(self, generation: str) -> tuple[str, str]:
        base = f"tanya-{self.name}-{generation}"
        return f"{base}-chunks", f"{base}-sentences"

    def _collections(self, generation: str, create: bool = False) -> tuple[Any, Any]:
        """The generation's two collections. Only writers create them: a reader must not
        bring back, empty, a generation another process has just dropped."""
        handles = self._handles.get(generation)
        if handles is None:
            chunks, sentences = self.collection_names(generation)
            if create:
                config = {"hnsw": {"space": "cosine"}}
                handles = (
                    self.client.get_or_create_collection(
                        chunks, embedding_function=None, configuration=config),
                    self.client.get_or_create_collection(
                        sentences, embedding_function=None, configuration=config),
                )
            else:
                handles = (self.client.get_collection(chunks, embedding_function=None),
                           self.client.get_collection(sentences, embedding_function=None))
            self._handles[generation] = handles
        return handles

    def generations(self) -> list[str]:
        """Generations present in the store for this index (complete or not)."""
        prefix = f"tanya-{self.name}-"
        names = [getattr(c, "name", c) for c in self._guard(self.client.list_collections)]
        return sorted({n[len(prefix):].rsplit("-", 1)[0] for n in names
                       if n.startswith(prefix) and n.endswith(("-chunks", "-sentences"))})

    def drop_generation(self, generation: str) -> None:
        self._handles.pop(generation, None)
        for name in self.collection_names(generation):
            # Already gone is fine: dropping is idempotent.
            with contextlib.suppress(Exception):
                self.client.delete_collection(name)
        # A split build's records go with its chunks: they must never vouch for a
        # generation that is gone.
        if generation.startswith(SPLIT_PREFIX):
            with contextlib.suppress(Exception):
                self.forget_parts(generation)

    # -- writes -----------------------------------------------------------------------
    def add_chunks(
        self,
        generation: str,
        chunks: Sequence[Chunk],
        chunk_vectors: np.ndarray,
        sentence_vectors: np.ndarray,
    ) -> None:
        """Store chunks and their sentences; ``sentence_vectors`` rows follow the chunks'
        sentences in order."""
        chunk_col, sentence_col = self._collections(generation, create=True)
        for part in _batches(len(chunks)):
            batch = chunks[part]
            chunk_col.upsert(
                ids=[c.chunk_id for c in batch],
                embeddings=chunk_vectors[part],
                documents=[c.text for c in batch],
                metadatas=[chunk_metadata(c) for c in batch],
            )
        sentence_rows = [(c, i, s) for c in chunks for i, s in enumerate(c.sentences)]
        for part in _batches(len(sentence_rows)):
            rows = sentence_rows[part]
            sentence_col.upsert(
                ids=[_sentence_id(c.chunk_id, i) for c, i, _ in rows],
                embeddings=sentence_vectors[part],
                documents=[s.text for _, _, s in rows],
                metadatas=[{"chunk_id": c.chunk_id, "doc_id": c.doc_id,
                            "start": s.start, "end": s.end} for c, _, s in rows],
            )

    def delete_revision(self, generation: str, doc_id: str, revision: str) -> int:
        """Delete the chunks (and their sentences) of one revision of ``doc_id``; returns
        how many chunks went. Other revisions of the document stay."""
        ids = [cid for cid in self.chunk_ids(generation, doc_id) if revision_of(cid) == revision]
        if ids:
            chunk_col, sentence_col = self._collections(generation, create=True)
            for part in _batches(len(ids)):
                sentence_col.delete(where={"chunk_id": {"$in": ids[part]}})
                chunk_col.delete(ids=ids[part])
        return len(ids)

    # -- reads ------------------------------------------------------------------------
    def counts(self, generation: str) -> dict[str, int]:
        def count() -> dict[str, int]:
            chunk_col, sentence_col = self._collections(generation)
            return {"chunks": chunk_col.count(), "sentences": sentence_col.count()}
        return dict(self._guard(count, generation))

    def census(self, generation: str) -> tuple[Counter[tuple[str, str]], int]:
        """Chunks per (document, revision), and how many sentences those chunks list,
        read in pages (for consistency checks; a large index is never loaded whole)."""
        def read() -> tuple[Counter[tuple[str, str]], int]:
            per_doc: Counter[tuple[str, str]] = Counter()
            sentences = 0
            for ids, metadatas in _pages(self._collections(generation)[0]):
                for cid, meta in zip(ids, metadatas, strict=True):
                    per_doc[(str(meta.get("doc_id")), revision_of(cid))] += 1
                    sentences += len(meta.get("sentence_spans") or []) // 3  # flat triples
            return per_doc, sentences
        return self._guard(read, generation)

    def chunk_ids(self, generation: str, doc_id: str | None = None) -> list[str]:
        where = {"doc_id": doc_id} if doc_id else None
        got = self._guard(lambda: self._collections(generation)[0].get(where=where, include=[]),
                          generation)
        return sorted(got["ids"])

    def query(self, generation: str, vector: np.ndarray, k: int) -> list[StoredPassage]:
        """The ``k`` chunks nearest to ``vector``, best first (score = cosine similarity)."""
        # No count() to clamp k: Chroma returns fewer results when it holds fewer, and a
        # count cost a quarter of retrieval time.
        got = self._guard(lambda: self._collections(generation)[0].query(
            query_embeddings=[vector], n_results=max(1, k),
            include=["documents", "metadatas", "distances"]), generation)
        return [
            _passage(cid, text, meta, 1.0 - float(dist))
            for cid, text, meta, dist in zip(
                got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0],
                strict=True)
        ]

    def query_ids(self, generation: str, vector: np.ndarray, k: int
                  ) -> list[tuple[str, float]]:
        """Ids and cosine similarities of the ``k`` chunks nearest to ``vector``, best
        first: the search alone, for a caller that keeps the chunks' texts (fetching
        documents and metadata doubled a query's time)."""
        got = self._guard(lambda: self._collections(generation)[0].query(
            query_embeddings=[vector], n_results=max(1, k), include=["distances"]),
            generation)
        return [(str(cid), 1.0 - float(dist))
                for cid, dist in zip(got["ids"][0], got["distances"][0], strict=True)]

    def query_sentences(self, generation: str, vector: np.ndarray, k: int) -> list[str]:
        """Chunk ids of the ``k`` sentences nearest to ``vector``, best first, deduplicated."""
        got = self._guard(lambda: self._collections(generation)[1].query(
            query_embeddings=[vector], n_results=max(1, k), include=[]), generation)
        # A sentence's id names its chunk (``_sentence_id``): no metadata to fetch.
        return list(dict.fromkeys(chunk_of_sentence(str(sid)) for sid in got["ids"][0]))

    def get_passages(self, generation: str, chunk_ids: Sequence[str]) -> list[StoredPassage]:
        """Chunks by id (score 0), in the order asked."""
        if not chunk_ids:
            return []
        got = self._guard(lambda: self._collections(generation)[0].get(
            ids=list(chunk_ids), include=["documents", "metadatas"]), generation)
        by_id = {cid: _passage(cid, text, meta, 0.0) for cid, text, meta in zip(
            got["ids"], got["documents"], got["metadatas"], strict=True)}
        return [by_id[c] for c in chunk_ids if c in by_id]

    def all_passages(self, generation: str) -> list[StoredPassage]:
        """Every chunk with score 0, in document order (for the lexical signal and the UI)."""
        got = self._guard(lambda: self._collections(generation)[0].get(
            include=["documents", "metadatas"]), generation)
        passages = [_passage(cid, text, meta, 0.0) for cid, text, meta in zip(
            got["ids"], got["documents"], got["metadatas"], strict=True)]
        return sorted(passages, key=lambda p: (p.doc_id, p.ordinal))

    def sentence_vectors(self, generation: str, passages: Sequence[StoredPassage]) -> np.ndarray:
        """Vectors of every sentence of ``passages``, in passage then sentence order."""
        ids = [_sentence_id(p.chunk_id, i) for p in passages for i in range(len(p.sentence_spans))]
        if not ids:
            return np.zeros((0, 0), dtype=np.float32)
        got = self._guard(lambda: self._collections(generation)[1].get(
            ids=ids, include=["embeddings"]), generation)
        by_id = dict(zip(got["ids"], got["embeddings"], strict=True))
        missing = [i for i in ids if i not in by_id]
        if missing:
            raise StoreUnavailableError(
                f"index is inconsistent: {len(missing)} sentence vectors missing; "
                "run `tanya index build --rebuild`")
        return np.asarray([by_id[i] for i in ids], dtype=np.float32)

    def heartbeat(self) -> None:
        """Raise StoreUnavailableError unless the store answers."""
        self._guard(self.client.heartbeat)

    def _guard(self, call: Any, generation: str | None = None) -> Any:
        """Run ``call``, turning connection failures into StoreUnavailableError.

        With ``generation``, a collection that is gone (another process rebuilt the index
        and dropped it) raises GenerationGoneError, so the caller re-reads the manifest.
        """
        try:
            return call()
        except StoreUnavailableError:
            raise
        except Exception as exc:
            if _is_connection_error(exc):
                raise StoreUnavailableError(f"the Chroma store is unreachable: {exc}") from exc
            if generation is None or type(exc).__name__ != "NotFoundError":
                raise
            self._handles.pop(generation, None)
            raise GenerationGoneError(
                f"index {self.name!r} was rebuilt while in use; reload it") from exc


def _pages(collection: Any) -> Iterator[tuple[list[str], list[dict[str, Any]]]]:
    """A collection's ids and metadatas, ``_BATCH`` at a time."""
    offset = 0
    while True:
        page = collection.get(include=["metadatas"], limit=_BATCH, offset=offset)
        ids, metas = list(page.get("ids") or []), list(page.get("metadatas") or [])
        yield ids, metas
        offset += len(ids)
        if len(ids) < _BATCH:
            return


def _is_connection_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    return isinstance(exc, httpx.TransportError | ConnectionError | TimeoutError) or (
        "connect" in text and ("refused" in text or "could not" in text)
    )


def _sentence_id(chunk_id: str, index: int) -> str:
    return f"{chunk_id}:s{index:03d}"


def chunk_of_sentence(sentence_id: str) -> str:
    """The chunk id a sentence id (``_sentence_id``) was made from."""
    return sentence_id.rsplit(":s", 1)[0]


def chunk_metadata(chunk: Chunk) -> dict[str, Any]:
    """How a chunk is stored in Chroma (read back by ``_passage``)."""
    return {
        "doc_id": chunk.doc_id, "title": chunk.title, "lang": chunk.lang,
        "section": chunk.section, "paragraph": chunk.paragraph, "ordinal": chunk.ordinal,
        "start": chunk.start, "end": chunk.end, "last_paragraph": chunk.last_paragraph,
        # Flattened (start, end, paragraph) triples: Chroma metadata holds flat lists only.
        "sentence_spans": [x for s in chunk.sentences for x in (s.start, s.end, s.paragraph)],
        # Only what is known (Chroma stores no None); an absent key reads back as "".
        **{key: value for key, value in (("url", chunk.url), ("published", chunk.published),
                                         ("author", chunk.author)) if value},
    }


def _passage(chunk_id: str, text: str, meta: dict[str, Any], score: float) -> StoredPassage:
    flat = list(meta.get("sentence_spans") or [])
    return StoredPassage(
        chunk_id=chunk_id, doc_id=str(meta["doc_id"]), title=str(meta.get("title", "")),
        lang=str(meta.get("lang", "")), section=str(meta.get("section", "")),
        paragraph=int(meta["paragraph"]), ordinal=int(meta.get("ordinal", 0)),
        start=int(meta["start"]), end=int(meta["end"]), text=text, score=score,
        last_paragraph=int(meta.get("last_paragraph", meta["paragraph"])),
        sentence_spans=tuple(zip(flat[::3], flat[1::3], flat[2::3], strict=True)),
        url=str(meta.get("url", "")), published=str(meta.get("published", "")),
        author=str(meta.get("author", "")),
    )


def sentences_of(passage: StoredPassage) -> list[Sentence]:
    """The passage's sentences, cut from its text by their document offsets."""
    return [Sentence(s, e, passage.text[s - passage.start : e - passage.start], paragraph)
            for s, e, paragraph in passage.sentence_spans]


def new_generation() -> str:
    """A sortable generation id."""
    return time.strftime("g%Y%m%d%H%M%S") + f"{time.time_ns() % 1_000_000:06d}"
