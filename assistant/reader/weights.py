"""The reader's weights without torch: the converted base (safetensors), the shipped
adapter merged into it, and the word-embedding table read row by row (only the rows a
question needs, and none of them kept)."""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path
from typing import Any

import numpy as np

WORD_EMBEDDINGS = "embeddings.word_embeddings.weight"
POSITIONS = "embeddings.position_embeddings.weight"
TOKEN_TYPES = "embeddings.token_type_embeddings.weight"
_DTYPES = {"F16": np.float16, "F32": np.float32}


def safetensors_header(path: Path) -> tuple[dict[str, dict[str, object]], int]:
    """The header of a safetensors file and where its data starts."""
    with path.open("rb") as f:
        (size,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(size))
    header.pop("__metadata__", None)
    return header, 8 + size


def map_tensor(path: Path, name: str) -> np.ndarray:
    """One tensor of a safetensors file, memory-mapped read-only."""
    header, base = safetensors_header(path)
    entry: dict[str, Any] = dict(header[name])
    begin = int(entry["data_offsets"][0])
    return np.memmap(path, dtype=np.dtype(_DTYPES[str(entry["dtype"])]), mode="r",
                     offset=base + begin, shape=tuple(int(n) for n in entry["shape"]))


class RowTable:
    """A 2-D tensor of a safetensors file read a row at a time with ``pread``.

    Memory-mapping the 192 MB word-embedding table would do the same work, but every page
    a question touches then stays in the process's resident memory: a server's RSS creeps
    towards the table's size as new words arrive. Rows read on demand sit in the page
    cache, shared and reclaimable, and the process keeps nothing.
    """

    def __init__(self, path: Path, name: str) -> None:
        header, base = safetensors_header(path)
        entry: dict[str, Any] = dict(header[name])
        self.dtype = np.dtype(_DTYPES[str(entry["dtype"])])
        self.rows, self.dim = (int(n) for n in entry["shape"])
        self._row_bytes = self.dim * self.dtype.itemsize
        self._offset = base + int(entry["data_offsets"][0])
        self._fd = os.open(path, os.O_RDONLY)

    def __getitem__(self, ids: np.ndarray) -> np.ndarray:
        """``ids.shape + (dim,)`` float32 rows."""
        unique, inverse = np.unique(ids, return_inverse=True)
        if unique.size and (unique[0] < 0 or unique[-1] >= self.rows):
            raise IndexError(f"row ids must be in [0, {self.rows})")
        table = np.empty((unique.size, self.dim), dtype=np.float32)
        for row, i in enumerate(unique.tolist()):
            raw = os.pread(self._fd, self._row_bytes, self._offset + i * self._row_bytes)
            table[row] = np.frombuffer(raw, dtype=self.dtype)
        return table[inverse.reshape(ids.shape)]

    def __del__(self) -> None:
        fd = getattr(self, "_fd", None)
        if fd is not None:
            os.close(fd)


class EmbeddingInputs:
    """What the graphs (reader and encoder) take: the embedding layer's sum before its
    LayerNorm, and the attention mask as an additive bias.

    The embedding layer runs here, not in the graph, so the 192 MB word table stays out
    of the graph and is read a row at a time (``RowTable``).
    """

    def __init__(self, weights: Path) -> None:
        self.words = RowTable(weights, WORD_EMBEDDINGS)
        self.positions = np.array(map_tensor(weights, POSITIONS), dtype=np.float32)
        # One token type: every input is a single segment, as e5 was trained.
        self.token_type = np.array(map_tensor(weights, TOKEN_TYPES)[0], dtype=np.float32)

    @property
    def dim(self) -> int:
        return int(self.positions.shape[1])

    def __call__(self, ids: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
        """The graph's feeds for ``[rows, tokens]`` ids and mask (1 = a real token)."""
        embedded = (self.words[ids] + self.positions[None, : ids.shape[1]]
                    + self.token_type).astype(np.float32)
        bias = ((1.0 - mask[:, None, None, :]) * -10000.0).astype(np.float32)
        return {"embedded": embedded, "bias": bias}


def load_tensors(path: Path, skip: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    from safetensors.numpy import safe_open

    out = {}
    with safe_open(str(path), framework="np") as f:
        for name in f.keys():  # noqa: SIM118 - safe_open has no __iter__
            if name not in skip:
                out[name] = f.get_tensor(name)
    return out


def layer_count(tensors: dict[str, np.ndarray]) -> int:
    """How many encoder layers ``tensors`` (transformers' BERT names) hold."""
    return sum(1 for name in tensors if name.endswith(".attention.self.query.weight"))


def merged_weights(base: dict[str, np.ndarray], adapter: dict[str, np.ndarray], scale: float
                   ) -> dict[str, np.ndarray]:
    """``base`` with every LoRA pair folded in (W + scale * B A) and the head added.

    Adapter names are the training model's: ``encoder.`` + the base name, with the
    linear layer's ``.base`` for the frozen weight and ``.lora_a`` / ``.lora_b``.
    """
    merged = dict(base)
    for name, a in adapter.items():
        if not name.endswith(".lora_a"):
            continue
        stem = name.removeprefix("encoder.").removesuffix(".lora_a")
        b = adapter[name.removesuffix("lora_a") + "lora_b"].astype(np.float32)
        weight = f"{stem}.weight"
        merged[weight] = base[weight] + scale * (b @ a.astype(np.float32))
    merged["head.weight"] = adapter["head.weight"].astype(np.float32)
    merged["head.bias"] = adapter["head.bias"].astype(np.float32)
    return merged
