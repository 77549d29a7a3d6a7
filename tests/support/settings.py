"""Settings for in-process tests."""

from __future__ import annotations

import os
from typing import Any

from assistant.settings import Settings


def session_settings(**values: Any) -> Settings:
    """``Settings(**values)`` with the session's shared derived-model cache (the
    ``tanya_home`` fixture sets ``TANYA_CACHE``: a fresh home would otherwise convert the
    reader's base and build its graph again) and, unless given, the reader as the
    environment says (``tanya_home`` turns it off for tests not about the reader)."""
    values.setdefault("cache", os.environ.get("TANYA_CACHE", ""))
    values.setdefault("reader", os.environ.get("TANYA_READER", "on"))
    return Settings(**values)
