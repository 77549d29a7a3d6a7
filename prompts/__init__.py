"""Prompt templates, kept as text files beside this module so they can be read and
reviewed without reading code. Placeholders use ``string.Template`` syntax (``$name``)."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

__all__ = ["load_prompt"]

_NAME = re.compile(r"[a-z0-9_]+")


@cache
def load_prompt(name: str) -> str:
    """The text of ``prompts/<name>.txt``.

    Raises:
        ValueError: ``name`` is not a plain template name (no paths, no extension).
        FileNotFoundError: there is no such template.
    """
    if not _NAME.fullmatch(name):
        raise ValueError(f"prompt name {name!r} must be lowercase letters, digits or '_'")
    return resources.files(__name__).joinpath(f"{name}.txt").read_text(encoding="utf-8")
