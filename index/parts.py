"""Split builds: several workers, on one machine or many, each embed a disjoint part of
one corpus into one Chroma server; the last to finish switches the index.

Every worker is given the whole corpus and its part (``2/3``). From the corpus, the
embedder, the chunker and the number of parts alone, each computes the same generation
name and the same split, so the workers need no coordinator: they write their chunks
into the shared generation and, when done, a record of their part beside the manifest.
A worker that finds every part recorded writes the manifest, which is the switch. Until
then the previous generation keeps serving, so a split build behaves like ``--rebuild``.
A killed worker is run again with the same arguments; it skips the chunks it stored.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from index.builder import BuildReport, IndexBuilder, _now, _record
from index.chunking import Chunk, chunk_document
from index.documents import Document
from index.errors import CorpusError, GenerationGoneError
from index.manifest import DocumentRecord
from index.store import SPLIT_PREFIX


@dataclass(frozen=True)
class Part:
    """Part ``number`` (1-based) of a build split ``count`` ways."""

    number: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Part:
        """``"2/3"`` -> Part(2, 3); a clear error for anything else."""
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
        if not match or not 1 <= int(match[1]) <= int(match[2]):
            raise CorpusError(f"--part {text!r} is not I/N with 1 <= I <= N (e.g. 1/2)")
        return cls(int(match[1]), int(match[2]))

    def __str__(self) -> str:
        return f"{self.number}/{self.count}"


@dataclass
class PartReport(BuildReport):
    """A part's build, and whether it was the one that completed the index."""

    part: str = ""
    parts_done: int = 0
    parts: int = 0
    switched: bool = False
    skipped_chunks: int = 0
    #: Other split builds of the index under way (another corpus, chunker or embedder).
    others: list[dict[str, Any]] = field(default_factory=list)


def split_generation(docs: Sequence[Document], embedder: str,
                     chunker: dict[str, object], parts: int) -> str:
    """The generation every worker of this split build writes into."""
    key = json.dumps({"docs": sorted((d.doc_id, d.content_hash) for d in docs),
                      "embedder": embedder, "chunker": chunker, "parts": parts},
                     sort_keys=True)
    return SPLIT_PREFIX + hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]


def split_documents(planned: Sequence[tuple[Document, list[Chunk]]], parts: int
                    ) -> list[list[tuple[Document, list[Chunk]]]]:
    """Documents in id order, cut into ``parts`` runs of about equal chunk counts (a
    document goes to the part its first chunk falls in)."""
    ordered = sorted(planned, key=lambda item: item[0].doc_id)
    total = sum(len(chunks) for _, chunks in ordered) or 1
    split: list[list[tuple[Document, list[Chunk]]]] = [[] for _ in range(parts)]
    before = 0
    for doc, chunks in ordered:
        split[min(parts - 1, before * parts // total)].append((doc, chunks))
        before += len(chunks)
    return split


class PartBuilder(IndexBuilder):
    """Builds one part of a split build and switches the index if it is the last."""

    def build_part(self, docs: Sequence[Document], part: Part) -> PartReport:
        started = time.perf_counter()
        chunker = self.chunker.as_dict()
        generation = split_generation(docs, self.embedder.spec, chunker, part.count)
        report = PartReport(generation, part=str(part), parts=part.count)
        serving = self.store.read_manifest()
        if serving is not None and serving.generation == generation:
            # Every part finished earlier: the index already serves this split build
            # (records a switcher killed midway left behind go now).
            self.store.forget_parts(generation)
            report.unchanged = sorted(serving.documents)
            report.parts_done = part.count
            return report
        planned = [(doc, chunk_document(doc, self.chunker)) for doc in docs]
        mine = split_documents(planned, part.count)[part.number - 1]
        if not self._recorded(generation, part):
            own = [c for _, chunks in mine for c in chunks]
            stored = (self.store.complete_chunks(generation, own)
                      if generation in self.store.generations() else set())
            todo = [c for c in own if c.chunk_id not in stored]
            report.skipped_chunks = len(own) - len(todo)
            self._embed_and_store(generation, todo, report, len(todo))
            records = {doc.doc_id: asdict(_record(doc, len(chunks))) for doc, chunks in mine}
            self.store.write_part(generation, part.number, part.count,
                                  json.dumps(records, ensure_ascii=False, sort_keys=True))
        report.added = [doc.doc_id for doc, _ in mine]
        self._finish(generation, part.count, report)
        # Workers given another corpus, chunker or embedder write another generation and
        # would wait for each other for ever: say so.
        report.others = [b for b in builds_under_way(self.store.finished_parts())
                         if b["generation"] != generation]
        report.seconds = time.perf_counter() - started
        return report

    def _recorded(self, generation: str, part: Part) -> bool:
        return any(number == part.number
                   for _, number, _, _ in self.store.finished_parts(generation))

    def _finish(self, generation: str, parts: int, report: PartReport) -> None:
        """Switch the index to ``generation`` if every part is recorded and stored."""
        finished = self.store.finished_parts(generation)
        report.parts_done = len({number for _, number, _, _ in finished})
        # What serves now, not when this part started hours ago.
        serving = self.store.read_manifest()
        if serving is not None and serving.generation == generation:
            report.parts_done = parts  # another worker switched a moment ago
            return
        if report.parts_done < parts:
            return
        manifest = self._new_manifest(generation)
        for _, _, _, payload in finished:
            for doc_id, record in json.loads(payload).items():
                manifest.documents[doc_id] = DocumentRecord(**record)
        try:
            stored = self.store.counts(generation)["chunks"]
        except GenerationGoneError:
            stored = 0
        if stored != manifest.chunk_count:
            self.store.forget_parts(generation)
            raise CorpusError(
                f"split build {generation} holds {stored} of its {manifest.chunk_count} "
                "chunks (was it dropped while its parts ran?); nothing was switched. Run "
                "every part again.")
        manifest.built_at = _now()
        # Two workers finishing together both get here and write the same manifest.
        self.store.write_manifest(manifest)
        if serving is not None and serving.generation != generation:
            self.store.drop_generation(serving.generation)
        self.store.forget_parts(generation)
        report.switched = True
        report.rebuilt = serving is not None


def builds_under_way(parts: Sequence[tuple[str, int, int, str]], serving: str | None = None
                     ) -> list[dict[str, Any]]:
    """Split builds with parts recorded that do not serve yet, for ``tanya index status``."""
    by_generation: dict[str, tuple[set[int], int]] = {}
    for generation, number, count, _ in parts:
        if generation == serving:
            continue
        done, _ = by_generation.setdefault(generation, (set(), count))
        done.add(number)
    return [{"generation": g, "parts": count, "parts_done": sorted(done)}
            for g, (done, count) in sorted(by_generation.items())]


def under_way_text(builds: Sequence[dict[str, Any]]) -> str:
    """``"; a split build has 1 of 2 parts done"`` per build, for status and check."""
    return "".join(f"; a split build has {len(b['parts_done'])} of {b['parts']} parts done"
                   for b in builds)
