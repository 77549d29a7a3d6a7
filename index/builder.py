"""Build and update an index: embed only what changed, switch generations atomically."""

from __future__ import annotations

import fcntl
import os
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from index.chunking import Chunk, ChunkerConfig, chunk_document
from index.documents import Document
from index.embedders import TanyaEmbeddings
from index.errors import EmbedderMismatchError, IndexBusyError
from index.manifest import DocumentRecord, Manifest, UnservedRevision, with_revision
from index.store import SPLIT_PREFIX, ChromaIndex, new_generation

Progress = Callable[[int, int], None]
#: The content hash of a document whose update started but did not finish (written by
#: builds before updates switched by revision; such a document is embedded again).
PENDING = "pending"
#: Chunks embedded and stored together: about 90 texts, some seconds of work on 2 cores,
#: so progress moves and a killed build loses little.
_STEP = 32


@dataclass
class BuildReport:
    """What a build did, for the CLI and for tests."""

    generation: str
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    chunks_embedded: int = 0
    seconds: float = 0.0
    rebuilt: bool = False

    @property
    def changed_anything(self) -> bool:
        return bool(self.added or self.changed or self.removed or self.rebuilt)


def check_embedder(manifest: Manifest, embedder: TanyaEmbeddings) -> None:
    """Refuse to mix vectors from different embedders in one index."""
    if manifest.embedder != embedder.spec or manifest.dim != embedder.dim:
        raise EmbedderMismatchError(
            f"index {manifest.name!r} was built with {manifest.embedder} ({manifest.dim}-dim), "
            f"not {embedder.spec} ({embedder.dim}-dim). Use --embedder {manifest.embedder}, "
            f"or run `tanya index build --rebuild --embedder {embedder.spec}`."
        )


def _lock_path(home: Path, name: str) -> Path:
    """The file ``build_lock`` holds while index ``name`` is being built."""
    return home / "locks" / f"build-{name}.lock"


def build_running(home: Path, name: str) -> bool:
    """Whether a build on this machine holds index ``name``'s build lock (read only)."""
    path = _lock_path(home, name)
    if not path.exists():
        return False
    with open(path) as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


@contextmanager
def build_lock(home: Path, name: str) -> Iterator[None]:
    """One build per index at a time on this machine."""
    path = _lock_path(home, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise IndexBusyError(
                f"another `tanya index build` is running on index {name!r} ({holder}); "
                "wait for it to finish, then run yours again."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class IndexBuilder:
    """Brings an index up to date with a set of documents."""

    def __init__(
        self,
        store: ChromaIndex,
        embedder: TanyaEmbeddings,
        chunker: ChunkerConfig | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.chunker = chunker or ChunkerConfig()
        self.progress = progress

    def build(self, docs: Sequence[Document], rebuild: bool = False) -> BuildReport:
        started = time.perf_counter()
        manifest = self.store.read_manifest()
        if manifest is not None and not rebuild:
            check_embedder(manifest, self.embedder)
        if manifest is None or rebuild or manifest.chunker != self.chunker.as_dict():
            report = self._build_fresh(docs, manifest, drop_split=rebuild)
        else:
            from index.updates import drop_unserved  # it builds on this module

            # Versions the document API replaced, once no question can still be reading them.
            drop_unserved(self.store, manifest)
            report = self._update(docs, manifest)
        report.seconds = time.perf_counter() - started
        return report

    # A fresh generation is filled completely before the manifest points at it, so a
    # build killed midway leaves the previous generation serving.
    def _build_fresh(self, docs: Sequence[Document], old: Manifest | None,
                     drop_split: bool = False) -> BuildReport:
        generation = new_generation()
        self._drop_orphans(keep=old.generation if old else None, drop_split=drop_split)
        manifest = self._new_manifest(generation)
        report = BuildReport(generation, rebuilt=old is not None)
        planned = [(doc, chunk_document(doc, self.chunker)) for doc in docs]
        # Nothing serves this generation until the manifest names it, so its chunks are
        # embedded in batches across documents (short articles make short calls).
        every_chunk = [chunk for _, chunks in planned for chunk in chunks]
        self._embed_and_store(generation, every_chunk, report, len(every_chunk))
        for doc, chunks in planned:
            manifest.documents[doc.doc_id] = _record(doc, len(chunks))
            report.added.append(doc.doc_id)
        manifest.built_at = _now()
        self.store.write_manifest(manifest)
        if old is not None:
            self.store.drop_generation(old.generation)
        return report

    def _update(self, docs: Sequence[Document], manifest: Manifest) -> BuildReport:
        """Bring the live generation up to ``docs``, touching only what changed.

        New and changed documents are written under a fresh revision the manifest lists
        as unserved, then one manifest write switches every change at once, as the
        document API does (``index.updates``): a question meanwhile reads the index as it
        was, never a half-written document. Replaced and removed versions stay, unserved,
        for questions already reading them, and go with a later update. The manifest is
        written twice however many documents change, and the new chunks are embedded in
        batches across documents: adding 100 articles to a large index costs those 100.
        """
        generation = manifest.generation
        report = BuildReport(generation)
        self._drop_orphans(keep=generation)
        wanted = {doc.doc_id for doc in docs}
        removed = sorted(set(manifest.documents) - wanted)
        revision = uuid.uuid4().hex[:12]
        planned: Planned = []
        for doc in docs:
            record = manifest.documents.get(doc.doc_id)
            if record is not None and record.content_hash == doc.content_hash:
                report.unchanged.append(doc.doc_id)
                continue
            planned.append((doc, revised_chunks(doc, self.chunker, revision)))
        if not planned and not removed:
            return report
        if planned:
            list_unserved(manifest, planned, revision)
            self.store.write_manifest(manifest)
            every_chunk = [chunk for _, chunks in planned for chunk in chunks]
            self._embed_and_store(generation, every_chunk, report, len(every_chunk))
        olds, _ = switch(manifest, planned, revision, removed)
        for (doc, _), old in zip(planned, olds, strict=True):
            (report.added if old is None else report.changed).append(doc.doc_id)
        report.removed.extend(removed)
        self.store.write_manifest(manifest)  # the switch
        return report

    def _embed_and_store(
        self, generation: str, chunks: list[Chunk], report: BuildReport, total: int
    ) -> None:
        """Embed ``chunks`` and store them, ``_STEP`` at a time: each step's passages and
        sentences go to the embedder in one call, so its workers share one queue."""
        for i in range(0, len(chunks), _STEP):
            part = chunks[i : i + _STEP]
            texts = [c.embed_text(self.chunker.section_context) for c in part]
            texts += [s.text for c in part for s in c.sentences]
            vectors = np.asarray(self.embedder.embed_for_index(texts, total),
                                 dtype=np.float32)
            self.store.add_chunks(generation, part, vectors[: len(part)],
                                  vectors[len(part) :])
            report.chunks_embedded += len(part)
            if self.progress:
                self.progress(report.chunks_embedded, total)

    def _new_manifest(self, generation: str) -> Manifest:
        return Manifest(
            name=self.store.name, generation=generation, embedder=self.embedder.spec,
            dim=self.embedder.dim, chunker=self.chunker.as_dict(),
        )

    def _drop_orphans(self, keep: str | None, drop_split: bool = False) -> None:
        """Remove generations left by builds that were killed before switching. A split
        build's may still be filling from other machines: only ``--rebuild`` drops them."""
        for generation in self.store.generations():
            if generation != keep and (drop_split or not generation.startswith(SPLIT_PREFIX)):
                self.store.drop_generation(generation)


Planned = list[tuple[Document, list[Chunk]]]


def revised_chunks(doc: Document, chunker: ChunkerConfig, revision: str) -> list[Chunk]:
    """``doc``'s chunks with ids tagged by ``revision``, so they can sit beside the
    version being served until the switch."""
    return [replace(c, chunk_id=with_revision(c.chunk_id, revision))
            for c in chunk_document(doc, chunker)]


def list_unserved(manifest: Manifest, planned: Planned, revision: str) -> None:
    """List ``planned``'s chunks under ``revision`` as unserved, before the first is
    stored: if the process dies, the next update finds and removes what it wrote, and
    nothing ever served it."""
    now = time.time()
    manifest.unserved += [UnservedRevision(doc.doc_id, revision, len(chunks), now)
                          for doc, chunks in planned]


def switch(manifest: Manifest, planned: Planned, revision: str, removed: Sequence[str],
           ) -> tuple[list[DocumentRecord | None], list[DocumentRecord]]:
    """Serve ``planned`` under ``revision`` and stop serving ``removed``, in ``manifest``
    (the caller writes it: one write switches everything). The versions replaced or
    removed are listed unserved, for questions already reading them. Returns the record
    each planned document had (None: new) and each removed document's."""
    now = time.time()
    manifest.unserved = [u for u in manifest.unserved if u.revision != revision]
    olds: list[DocumentRecord | None] = []
    for doc, chunks in planned:
        old = manifest.documents.get(doc.doc_id)
        if old is not None:
            manifest.unserved.append(UnservedRevision(doc.doc_id, old.revision, old.chunks,
                                                      now))
        manifest.documents[doc.doc_id] = _record(doc, len(chunks), revision=revision)
        olds.append(old)
    gone = []
    for doc_id in removed:
        old = manifest.documents.pop(doc_id)
        manifest.unserved.append(UnservedRevision(doc_id, old.revision, old.chunks, now))
        gone.append(old)
    manifest.built_at = _now()
    return olds, gone


def _record(doc: Document, chunks: int, revision: str = "") -> DocumentRecord:
    return DocumentRecord(doc.content_hash, doc.title, doc.lang, doc.source,
                          chunks, url=doc.url, published=doc.published, author=doc.author,
                          revision=revision)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
