"""Add, replace and remove single documents of a serving index, atomically for readers.

``IndexBuilder.build`` brings an index to a whole corpus. The document API and
``tanya index add/remove`` change a few documents of an index that is answering
questions, perhaps in other processes, and a question must see the index before the
change or after it, never a mix. So a new version is written beside the old one, under
chunk ids tagged with a fresh revision (``doc:0003@4f9c2a1b7d3e``) that no manifest
serves yet; one manifest write then switches every changed document at once
(:meth:`Manifest.serves`). The replaced versions stay, unserved, for
``KEEP_UNSERVED_SECONDS`` (serving processes re-read the manifest every two seconds, and
a question that started before that still reads them), then go.

A process killed midway leaves the manifest as it was: the versions it was writing are
listed as unserved before the first chunk is stored, and a later update removes them.
The caller holds the build lock (``index.builder.build_lock``).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from index.builder import (
    BuildReport,
    IndexBuilder,
    Planned,
    Progress,
    check_embedder,
    list_unserved,
    revised_chunks,
    switch,
)
from index.chunking import Chunk, ChunkerConfig
from index.documents import Document
from index.embedders import TanyaEmbeddings
from index.errors import CorpusError, DocumentNotFoundError
from index.manifest import Manifest
from index.store import ChromaIndex

#: How long a replaced or removed version stays readable after the switch: the serving
#: processes' manifest re-check (2 s) plus the longest a question reads the store.
KEEP_UNSERVED_SECONDS = 15.0


@dataclass(frozen=True)
class DocumentChange:
    """What an update did to one document."""

    doc_id: str
    status: str  # "added", "changed", "unchanged", "removed"
    title: str = ""
    chunks: int = 0
    chunks_embedded: int = 0

    def to_dict(self) -> dict[str, object]:
        return {"id": self.doc_id, "status": self.status, "title": self.title,
                "chunks": self.chunks, "chunks_embedded": self.chunks_embedded}


@dataclass
class UpdateReport:
    """What ``DocumentUpdater.apply`` did, document by document."""

    changes: list[DocumentChange] = field(default_factory=list)
    chunks_embedded: int = 0
    seconds: float = 0.0
    #: Whether replaced or removed versions wait, unserved, to be dropped later.
    unserved_left: bool = False

    def ids(self, status: str) -> list[str]:
        return [c.doc_id for c in self.changes if c.status == status]

    @property
    def changed_anything(self) -> bool:
        return any(c.status != "unchanged" for c in self.changes)

    def summary(self) -> str:
        """``2 added, 1 changed, 0 removed, 3 unchanged; 41 chunks embedded``."""
        counts = ", ".join(f"{len(self.ids(s))} {s}"
                           for s in ("added", "changed", "removed", "unchanged"))
        return f"{counts}; {self.chunks_embedded} chunks embedded"

    def to_dict(self) -> dict[str, object]:
        return {**{s: len(self.ids(s)) for s in ("added", "changed", "removed", "unchanged")},
                "chunks_embedded": self.chunks_embedded, "seconds": round(self.seconds, 3),
                "documents": [c.to_dict() for c in self.changes]}


class DocumentUpdater:
    """Adds, replaces and removes documents without touching the others."""

    def __init__(self, store: ChromaIndex, embedder: TanyaEmbeddings,
                 progress: Progress | None = None) -> None:
        self.store = store
        self.embedder = embedder
        self.progress = progress

    def apply(self, add: Sequence[Document] = (), remove: Sequence[str] = ()) -> UpdateReport:
        """Index ``add`` (new or replacing documents of the same id; unchanged ones embed
        nothing) and remove the documents ``remove`` names, in one switch.

        Raises:
            CorpusError: an id given twice.
            DocumentNotFoundError: a document to remove is not in the index.
            EmbedderMismatchError: the index was built with another embedder.
        """
        started = time.perf_counter()
        _check_unique([d.doc_id for d in add], list(remove))
        manifest = self.store.read_manifest()
        if manifest is None:
            if remove:
                raise CorpusError(f"index {self.store.name!r} is not built yet; nothing "
                                  "to remove")
            return self._first_build(add, started)
        check_embedder(manifest, self.embedder)
        missing = [doc_id for doc_id in remove if doc_id not in manifest.documents]
        if missing:
            raise DocumentNotFoundError(f"no document {', '.join(map(repr, missing))} in index "
                              f"{self.store.name!r}; nothing was changed")
        drop_unserved(self.store, manifest)
        report = UpdateReport()
        revision = uuid.uuid4().hex[:12]
        chunker = ChunkerConfig(**manifest.chunker)
        planned: Planned = []
        for doc in add:
            record = manifest.documents.get(doc.doc_id)
            if record is not None and record.content_hash == doc.content_hash:
                report.changes.append(DocumentChange(doc.doc_id, "unchanged", record.title,
                                                     record.chunks))
                continue
            planned.append((doc, revised_chunks(doc, chunker, revision)))
        if planned:
            list_unserved(manifest, planned, revision)
            self.store.write_manifest(manifest)
            self._embed(manifest.generation, [c for _, chunks in planned for c in chunks],
                        chunker, report)
        if not planned and not remove:
            report.seconds = time.perf_counter() - started
            return report
        olds, gone = switch(manifest, planned, revision, remove)
        for (doc, chunks), old in zip(planned, olds, strict=True):
            report.changes.append(DocumentChange(
                doc.doc_id, "added" if old is None else "changed", doc.title, len(chunks),
                len(chunks)))
        for doc_id, old in zip(remove, gone, strict=True):
            report.changes.append(DocumentChange(doc_id, "removed", old.title, old.chunks))
        self.store.write_manifest(manifest)  # the switch
        report.unserved_left = bool(manifest.unserved)
        report.seconds = time.perf_counter() - started
        return report

    def _first_build(self, docs: Sequence[Document], started: float) -> UpdateReport:
        """No index yet: a fresh one holding ``docs`` (the bundled article is not added)."""
        built = IndexBuilder(self.store, self.embedder, progress=self.progress).build(docs)
        report = UpdateReport(chunks_embedded=built.chunks_embedded)
        manifest = self.store.read_manifest()
        assert manifest is not None
        for doc in docs:
            chunks = manifest.documents[doc.doc_id].chunks
            report.changes.append(DocumentChange(doc.doc_id, "added", doc.title, chunks, chunks))
        report.seconds = time.perf_counter() - started
        return report

    def _embed(self, generation: str, chunks: list[Chunk], chunker: ChunkerConfig,
               report: UpdateReport) -> None:
        """Embed and store ``chunks`` the way a build does (same batching, progress)."""
        builder = IndexBuilder(self.store, self.embedder, chunker, self.progress)
        built = BuildReport(generation)
        builder._embed_and_store(generation, chunks, built, len(chunks))
        report.chunks_embedded += built.chunks_embedded


def drop_unserved(store: ChromaIndex, manifest: Manifest,
                  older_than: float | None = None) -> bool:
    """Delete the unserved versions listed for at least ``older_than`` seconds (default
    ``KEEP_UNSERVED_SECONDS``) and write the manifest without them; True if any went.
    The caller holds the build lock."""
    wait = KEEP_UNSERVED_SECONDS if older_than is None else older_than
    cutoff = time.time() - wait
    due = [u for u in manifest.unserved if u.since <= cutoff]
    if not due:
        return False
    for entry in due:
        served = manifest.documents.get(entry.doc_id)
        if served is not None and served.revision == entry.revision:
            continue  # a build rewrote it in place since: it serves again, keep it
        store.delete_revision(manifest.generation, entry.doc_id, entry.revision)
    manifest.unserved = [u for u in manifest.unserved if u.since > cutoff]
    store.write_manifest(manifest)
    return True


def _check_unique(added: list[str], removed: list[str]) -> None:
    seen: set[str] = set()
    for doc_id in added + removed:
        if doc_id in seen:
            raise CorpusError(f"document {doc_id!r} is given twice; nothing was changed")
        seen.add(doc_id)
