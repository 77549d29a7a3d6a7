"""What a wheel ships: every package, and every data file the code reads at run time."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[1]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_package_is_found() -> None:
    on_disk = {str(p.parent.relative_to(ROOT)).replace("/", ".")
               for top in ("assistant", "index", "prompts", "eval")
               for p in (ROOT / top).rglob("__init__.py")}
    assert set(find_packages(str(ROOT), **CONFIG["packages"]["find"])) == on_disk


def test_every_data_file_is_package_data() -> None:
    patterns = CONFIG["package-data"]
    data = [p for top in ("assistant", "index", "prompts", "eval")
            for p in (ROOT / top).rglob("*")
            if p.is_file() and p.suffix not in {".py", ".pyc"} and "__pycache__" not in p.parts]
    assert any(p.name == "background.txt" for p in data)  # the check sees the files
    for path in data:
        package, *inside = path.relative_to(ROOT).parts
        assert any(fnmatch.fnmatch("/".join(inside), pattern)
                   for pattern in patterns.get(package, [])), f"{path} is not package data"


def test_tanya_check_knows_every_runtime_dependency() -> None:
    """`tanya check` imports what pyproject.toml declares; the two lists must not drift."""
    from packaging.requirements import Requirement

    from assistant.diagnostics import REQUIRED

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    # packaging is only used by the check itself, to compare versions.
    assert set(REQUIRED) | {"packaging"} == {Requirement(d).name.lower() for d in declared}
