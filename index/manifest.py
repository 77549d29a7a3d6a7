"""The index manifest: what a collection was built from and with."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

#: Separates a chunk id from the revision the document API wrote it under
#: (``doc:0003@4f9c2a1b7d3e``); document ids never contain it.
REVISION_MARK = "@"


def revision_of(chunk_id: str) -> str:
    """The revision a chunk id was written under; "" for the plain ids a build writes."""
    _, mark, revision = chunk_id.rpartition(REVISION_MARK)
    return revision if mark else ""


def with_revision(chunk_id: str, revision: str) -> str:
    """``chunk_id`` as stored for ``revision`` (unchanged for "")."""
    return f"{chunk_id}{REVISION_MARK}{revision}" if revision else chunk_id


@dataclass
class DocumentRecord:
    """One indexed document as the manifest remembers it."""

    content_hash: str
    title: str
    lang: str
    source: str
    chunks: int
    url: str = ""
    published: str = ""
    author: str = ""
    #: The revision its serving chunks carry in their ids: "" when a build wrote them in
    #: place, else the tag of the document-API update that wrote them beside the old ones.
    revision: str = ""


@dataclass
class UnservedRevision:
    """Chunks in the store that no record serves: a version being written, or a replaced
    or removed one kept a little while for questions already under way. Removed once
    ``since`` (Unix time) is old enough; readers never see them meanwhile."""

    doc_id: str
    revision: str
    chunks: int
    since: float


@dataclass
class Manifest:
    """Per-index record: active collection, embedder, chunker parameters, documents.

    ``generation`` names the Chroma collections that serve; a rebuild writes a new
    generation and switches this pointer only when it is complete. Within a generation a
    chunk serves only if its document's record names its revision (``serves``), so the
    document API writes a new version beside the old one and switches by writing this.
    """

    name: str
    generation: str
    embedder: str
    dim: int
    chunker: dict[str, Any]
    documents: dict[str, DocumentRecord] = field(default_factory=dict)
    built_at: str = ""
    version: int = 1
    unserved: list[UnservedRevision] = field(default_factory=list)

    @property
    def chunk_count(self) -> int:
        return sum(d.chunks for d in self.documents.values())

    def serves(self, doc_id: str, chunk_id: str) -> bool:
        """Whether the chunk ``chunk_id`` of ``doc_id`` is part of this index."""
        record = self.documents.get(doc_id)
        return record is not None and revision_of(chunk_id) == record.revision

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, raw: str) -> Manifest:
        data = json.loads(raw)
        docs = {k: DocumentRecord(**_known(DocumentRecord, v))
                for k, v in data.pop("documents", {}).items()}
        unserved = [UnservedRevision(**_known(UnservedRevision, v))
                    for v in data.pop("unserved", [])]
        return cls(documents=docs, unserved=unserved, **_known(cls, data))


def _known(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` without keys ``cls`` does not have (written by a newer Tanya)."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}
