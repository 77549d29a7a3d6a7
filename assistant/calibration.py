"""Refusal settings calibrated per embedder (written by ``tanya eval calibrate``).

The shipped ``calibration.json`` holds them; ``TANYA_CALIBRATION=PATH`` names a file of a
deployment's own (``tanya eval calibrate-reader SET... --corpus ARCHIVE`` writes there),
whose entries replace the shipped ones of the same key. Read here rather than from
``Settings``: every caller of these functions would otherwise have to carry it.
"""

from __future__ import annotations

import json
import logging
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from assistant.errors import ConfigError

CALIBRATION_PATH = Path(__file__).with_name("calibration.json")
CALIBRATION_ENV = "TANYA_CALIBRATION"
log = logging.getLogger(__name__)


def own_calibration_path() -> Path | None:
    """The deployment's calibration file (``TANYA_CALIBRATION``), if one is set."""
    given = os.environ.get(CALIBRATION_ENV, "").strip()
    return Path(given).expanduser() if given else None


def load_calibration() -> dict[str, Any]:
    """The shipped calibration with the deployment's own entries over it."""
    return _merged(CALIBRATION_PATH, own_calibration_path())


@lru_cache(maxsize=4)
def _merged(shipped: Path, own: Path | None) -> dict[str, Any]:
    merged = _read(shipped) if shipped.is_file() else {}
    if own is not None:
        if own.is_file():
            merged.update(_read(own))
        else:
            # Not an error: the calibration that will write it reads it first. `tanya
            # check` fails on it.
            log.warning("%s=%s does not exist: the shipped calibration is used",
                        CALIBRATION_ENV, own)
    return merged


def clear_cache() -> None:
    """Forget what was read (after a calibration wrote a file)."""
    _merged.cache_clear()


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"calibration file {path} cannot be read ({exc}); fix or delete "
                          f"it, or unset {CALIBRATION_ENV}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"calibration file {path} must hold a JSON object")
    return data


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


# In ``reader_thresholds``: the threshold of every language an override or no calibration
# sets, and of the languages no set calibrated.
ALL_LANGUAGES, OTHER_LANGUAGES = "all", "other"


def reader_thresholds(adapter_sha256: str, embedder: str, override: float | None = None
                      ) -> tuple[dict[str, float], str]:
    """The reader's thresholds by question language, and where they come from
    (``override``, ``calibration`` or ``uncalibrated``): each calibrated language's, and
    for the others (``OTHER_LANGUAGES``) the lowest, so a language no set calibrated is
    not refused more often; 0.0 for all when uncalibrated."""
    if override is not None:
        return {ALL_LANGUAGES: override}, "override"
    entry = reader_entry(adapter_sha256, embedder)
    if not entry:
        return {ALL_LANGUAGES: 0.0}, "uncalibrated"
    calibrated = {lang: float(t) for lang, t in entry.get("thresholds", {}).items()}
    return {**calibrated, OTHER_LANGUAGES: float(entry["threshold"])}, "calibration"


def reader_threshold(adapter_sha256: str, embedder: str, lang: str,
                     override: float | None = None) -> float:
    """The answerability below which the reader refuses a question in ``lang``
    (``reader_thresholds``)."""
    thresholds, _ = reader_thresholds(adapter_sha256, embedder, override)
    if ALL_LANGUAGES in thresholds:
        return thresholds[ALL_LANGUAGES]
    return thresholds.get(lang, thresholds[OTHER_LANGUAGES])
