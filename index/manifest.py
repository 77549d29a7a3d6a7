"""The index manifest: what a collection was built from and with."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class DocumentRecord:
    """One indexed document as the manifest remembers it."""

    content_hash: str
    title: str
    lang: str
    source: str
    chunks: int


@dataclass
class Manifest:
    """Per-index record: active collection, embedder, chunker parameters, documents.

    ``generation`` names the Chroma collections that serve; a rebuild writes a new
    generation and switches this pointer only when it is complete.
    """

    name: str
    generation: str
    embedder: str
    dim: int
    chunker: dict[str, Any]
    documents: dict[str, DocumentRecord] = field(default_factory=dict)
    built_at: str = ""
    version: int = 1

    @property
    def chunk_count(self) -> int:
        return sum(d.chunks for d in self.documents.values())

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, raw: str) -> Manifest:
        data = json.loads(raw)
        docs = {k: DocumentRecord(**v) for k, v in data.pop("documents", {}).items()}
        return cls(documents=docs, **data)
