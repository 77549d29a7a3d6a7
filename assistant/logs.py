"""Logging: details (tracebacks included) go to a file under TANYA_HOME, never to users."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from assistant.settings import data_dir


def log_path() -> Path:
    return data_dir() / "logs" / "tanya.log"


def setup_logging(level: int = logging.INFO) -> None:
    root = logging.getLogger("tanya")
    if root.handlers:
        return
    path = log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=5_000_000, backupCount=2, encoding="utf-8")
    except OSError:
        handler = logging.NullHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)
