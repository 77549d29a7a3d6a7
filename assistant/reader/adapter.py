"""The shipped adapter (LoRA deltas and the span head) and its manifest, checked
against each other before use."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import TanyaError

SHIPPED_DIR = Path(__file__).parent
ADAPTER_FILE, MANIFEST_FILE = "adapter.safetensors", "adapter.json"
_RESTORE = ("reinstall Tanya (`pip install -e .`) to restore the shipped adapter, or "
            "train one with `tanya reader train` (`make reader`) and copy it in; "
            "`TANYA_READER=off` answers without the reader meanwhile")


class ReaderUnavailableError(TanyaError):
    """The reader's adapter (or its cache) is missing or does not match its manifest:
    ``problem`` says what, ``fix`` what restores it (the message is both)."""

    status = 503

    def __init__(self, problem: str, fix: str = "") -> None:
        super().__init__(f"{problem}; {fix}" if fix else problem)
        self.problem, self.fix = problem, fix


@dataclass(frozen=True)
class Adapter:
    tensors: dict[str, np.ndarray]
    manifest: dict[str, Any]
    sha256: str

    @property
    def scale(self) -> float:
        config = self.manifest["config"]["adapter"]
        return float(config["alpha"]) / float(config["rank"])

    @property
    def layers(self) -> int:
        """The base's layers the reader runs (0: all; manifests before the setting)."""
        return int(self.manifest["config"]["adapter"].get("layers", 0))


def load_adapter(directory: Path) -> Adapter:
    """The adapter in ``directory``; raises ReaderUnavailableError naming the fix."""
    from safetensors.numpy import load

    path, manifest_path = directory / ADAPTER_FILE, directory / MANIFEST_FILE
    if not path.is_file() or not manifest_path.is_file():
        raise ReaderUnavailableError(f"the reader's adapter is missing from {directory}",
                                     _RESTORE)
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        expected = manifest["adapter_sha256"]
        manifest["config"]["adapter"]["rank"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ReaderUnavailableError(f"the reader's manifest {manifest_path} is unreadable "
                                     f"({exc})", _RESTORE) from None
    if sha != expected:
        raise ReaderUnavailableError(
            f"the reader's adapter {path} does not match its manifest (sha256 {sha[:12]}, "
            f"expected {str(expected)[:12]})", _RESTORE)
    try:
        tensors = load(data)
    except Exception as exc:  # safetensors raises its own error types
        raise ReaderUnavailableError(f"the reader's adapter {path} is corrupt ({exc})",
                                     _RESTORE) from None
    return Adapter(dict(tensors), manifest, sha)


def load_shipped() -> Adapter:
    return load_adapter(SHIPPED_DIR)


def check_shipped() -> dict[str, Any]:
    """What ``tanya reader check`` reports (raises when the adapter is unusable)."""
    adapter = load_shipped()
    return {"adapter_sha256": adapter.sha256, "tensors": len(adapter.tensors),
            "bytes": (SHIPPED_DIR / ADAPTER_FILE).stat().st_size,
            "dev": adapter.manifest.get("dev"), "config": adapter.manifest.get("config")}
