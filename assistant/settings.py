"""Settings, built once at each edge from ``TANYA_*`` variables (CLI flags win)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from assistant.errors import ConfigError
from assistant.reader.focus import FOCUS_CHARS
from index.embedders import DEFAULT_EMBEDDER

_INDEX_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{1,40}[a-z0-9]")


def data_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where Tanya keeps its data: ``TANYA_HOME``, else the per-user data directory."""
    env = os.environ if env is None else env
    if env.get("TANYA_HOME"):
        return Path(env["TANYA_HOME"]).expanduser()
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "tanya"


@dataclass(frozen=True)
class Settings:
    """Everything configurable. Field ``x`` reads ``TANYA_X`` from the environment."""

    home: Path = field(default_factory=data_dir)
    # Models and vectors derived from installed packages (the reader's converted base,
    # its graph, the background): "" means TANYA_HOME/cache. Safe to share between homes.
    cache: str = ""
    chroma_url: str = ""
    index: str = "default"
    embedder: str = DEFAULT_EMBEDDER
    k: int = 5
    llm: str = ""
    llm_timeout: float = 30.0
    refusal_threshold: float | None = None
    max_question_chars: int = 2000
    api_key: str = ""
    # The document API (/api/documents) is off unless this is set; it is a key of its own,
    # not the asking key.
    admin_key: str = ""
    allowed_origins: str = ""
    root_path: str = ""
    rate_limit_per_minute: int = 120
    max_concurrent_requests: int = 16
    max_body_bytes: int = 65536
    # Bodies of the document API (a posted article, an uploaded file or dump).
    max_upload_bytes: int = 10_000_000
    # "on" (the default): the trained reader finds the answer span and decides
    # answerability (calibrated and gated); "off": the sentence-only path, whose refusal
    # rules were fitted to the bundled article, for comparison.
    reader: str = "on"
    reader_threshold: float | None = None
    # Characters of each retrieved passage the reader reads (its best sentence and the
    # whole sentences around it): most of an answer's time. The threshold is calibrated
    # at the default; another value is for measuring (`tanya eval run --reader-chars`).
    reader_chars: int = FOCUS_CHARS

    def __post_init__(self) -> None:
        if not _INDEX_NAME.fullmatch(self.index):
            raise ConfigError(
                f"index name {self.index!r} must be 3-42 characters of a-z, 0-9, '-' or '_'")
        if not 1 <= self.k <= 50:
            raise ConfigError(f"k must be between 1 and 50, not {self.k}")
        if self.llm_timeout <= 0:
            raise ConfigError("llm timeout must be positive")
        if self.reader not in ("on", "off"):
            raise ConfigError(f"reader must be 'on' or 'off', not {self.reader!r}")
        if not 50 <= self.reader_chars <= 5000:
            raise ConfigError(f"reader chars (--reader-chars, TANYA_READER_CHARS) must be "
                              f"between 50 and 5000, not {self.reader_chars}")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read ``TANYA_*`` variables, then apply non-None ``overrides`` (CLI flags)."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {"home": data_dir(env)}
        for f in fields(cls):
            raw = env.get(f"TANYA_{f.name.upper()}")
            if raw is None or f.name == "home":
                continue
            values[f.name] = _parse(f.name, raw, f.type)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    @property
    def cache_dir(self) -> Path:
        return Path(self.cache).expanduser() if self.cache else Path(self.home) / "cache"

    @property
    def reader_on(self) -> bool:
        return self.reader == "on"

    @property
    def origins(self) -> list[str]:
        return [o.strip() for o in self.allowed_origins.split(",") if o.strip()]


def _parse(name: str, raw: str, kind: Any) -> Any:
    kind = str(kind)
    try:
        if kind.startswith("int"):
            return int(raw)
        if kind.startswith("float"):
            return float(raw) if raw.strip() else None
    except ValueError:
        raise ConfigError(f"TANYA_{name.upper()}={raw!r} is not a number") from None
    return raw
