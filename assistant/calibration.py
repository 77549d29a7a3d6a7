"""Refusal settings calibrated per embedder (written by ``tanya eval calibrate``)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

CALIBRATION_PATH = Path(__file__).with_name("calibration.json")


@lru_cache(maxsize=1)
def load_calibration() -> dict[str, Any]:
    path = CALIBRATION_PATH
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return {}


def refusal_threshold(embedder: str, override: float | None = None) -> float:
    """The confidence below which Tanya refuses; 0.0 (never) for uncalibrated embedders."""
    if override is not None:
        return override
    entry = load_calibration().get(embedder)
    return float(entry["threshold"]) if entry else 0.0


def off_topic_margin(embedder: str) -> float | None:
    """The background margin under which Tanya refuses as off-topic; None (no check) for
    uncalibrated embedders, whose similarities say nothing comparable (``hash:``)."""
    entry = load_calibration().get(embedder)
    margin = entry.get("off_topic_margin") if entry else None
    return float(margin) if margin is not None else None


def reader_entry(adapter_sha256: str, embedder: str) -> dict[str, Any] | None:
    """The reader's calibration when it was made for this adapter and embedder (the
    combined answerability reads the embedder's similarities); None otherwise."""
    entry = load_calibration().get("reader")
    if entry and entry.get("adapter_sha256") == adapter_sha256 \
            and entry.get("embedder", embedder) == embedder:
        return dict(entry)
    return None


def reader_threshold(adapter_sha256: str, embedder: str, lang: str,
                     override: float | None = None) -> float:
    """The answerability below which the reader refuses a question in ``lang``: the
    language's calibrated threshold, else the lowest calibrated one (a language no set
    calibrated is not refused more often), else 0.0 (uncalibrated)."""
    if override is not None:
        return override
    entry = reader_entry(adapter_sha256, embedder)
    if not entry:
        return 0.0
    return float(entry.get("thresholds", {}).get(lang, entry["threshold"]))
