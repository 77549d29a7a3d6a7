"""Documents in: the bundled article and user corpora, normalised once.

Formats: ``.txt``/``.md`` as they are; ``.html``/``.htm`` news pages, ``.pdf`` and
``.jsonl`` dumps through the readers in :mod:`index.formats`. Whatever the format, the
extracted text goes through :func:`normalize_text` and is what offsets refer to.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from index.formats import Extracted, FormatError, check_fields, lone_surrogate
from index.formats.html import extract_page
from index.formats.jsonl import read_dump
from index.formats.pdf import extract_pdf

TEXT_SUFFIXES = (".txt", ".md")
SUPPORTED_SUFFIXES = (*TEXT_SUFFIXES, ".html", ".htm", ".pdf", ".jsonl")
#: The largest file (or JSONL line) read; a JSONL dump as a whole has no limit.
MAX_DOCUMENT_BYTES = 20_000_000
# Metadata is one line of text; a URL may be long, a title or a name is not.
_MAX_URL_CHARS = 2048
_MAX_FIELD_CHARS = 500

# Invisible characters hide text from readers and can smuggle instructions to a model
# (Unicode tag characters and variation selectors encode whole ASCII strings unseen), so
# they never reach the index: zero-width and bidi controls, fillers, variation
# selectors, tags. Control characters go too: an ESC in a quote could drive the terminal
# that prints `tanya ask`.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5"
    "\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\u3164"
    "\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb\U000e0000-\U000e007f\U000e0100-\U000e01ef]")
# Control characters that separate words (vertical tab, form feed, file/group/record/unit
# separators, next line) become a space, so "a\x0cb" stays two words.
_SEPARATORS = re.compile("[\x0b\x0c\x1c-\x1f\x85]")
_SLUG = re.compile(r"[^a-z0-9]+")


def strip_invisible(text: str) -> str:
    """``text`` without invisible or control characters (separators become spaces)."""
    return _INVISIBLE.sub("", _SEPARATORS.sub(" ", text))


@dataclass(frozen=True)
class Document:
    """A source document. Offsets everywhere refer to ``text`` as stored here."""

    doc_id: str
    title: str
    lang: str
    text: str
    source: str
    #: Optional metadata, "" when unknown; citations carry it beside the title.
    url: str = ""
    published: str = ""
    author: str = ""

    @property
    def content_hash(self) -> str:
        """Hash of what the index depends on: text, title, language and metadata."""
        parts = [self.title, self.lang, self.text]
        # Only when there is some, so documents without metadata keep the hash they had
        # (an index built before metadata existed is not re-embedded for nothing).
        if self.url or self.published or self.author:
            parts += ["meta", self.url, self.published, self.author]
        return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CorpusProblem:
    """A file that was skipped, and why."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def normalize_text(raw: str) -> str:
    """Canonical text: NFC, Unix newlines, no invisible characters, no trailing blank lines."""
    text = unicodedata.normalize("NFC", raw).replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n")
    text = strip_invisible(text)
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


def clean_field(value: str, limit: int = _MAX_FIELD_CHARS) -> str:
    """A metadata value as one line: NFC, no invisible characters, spaces collapsed."""
    text = strip_invisible(unicodedata.normalize("NFC", value))
    return " ".join(text.split())[:limit]


def slugify(name: str) -> str:
    """A stable, store-safe id from a file name."""
    slug = _SLUG.sub("-", unicodedata.normalize("NFKD", name).lower()).strip("-")
    return slug or "document"


def bundled_documents() -> list[Document]:
    """The article that ships with Tanya, with its catalogue metadata."""
    folder = resources.files("index") / "corpus"
    catalog = json.loads((folder / "catalog.json").read_text(encoding="utf-8"))
    docs = []
    for filename, meta in sorted(catalog.items()):
        text = normalize_text((folder / filename).read_text(encoding="utf-8"))
        docs.append(Document(
            meta["doc_id"], meta["title"], meta["lang"], text, f"bundled:{filename}",
            url=meta.get("url", ""), published=meta.get("published", ""),
            author=meta.get("author", "")))
    return docs


def _split_name(path: Path) -> tuple[str, str]:
    """``article.id.txt`` -> (``article``, ``id``); the language tag is optional."""
    stem = path.stem
    if "." in stem:
        base, tag = stem.rsplit(".", 1)
        if re.fullmatch(r"[a-z]{2,3}", tag):
            return base, tag
    return stem, "und"


def _title_from(text: str, base: str, suffix: str) -> str:
    if suffix == ".md":
        for line in text.split("\n"):
            if line.startswith("# "):
                return line[2:].strip()
    return base.replace("-", " ").replace("_", " ").strip().capitalize() or base


def load_file(path: Path) -> Document:
    """Read one single-document file; raises ValueError with a reader-friendly reason."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise ValueError(f"unsupported file type {path.suffix or '(none)'!r}; use "
                         f"{', '.join(SUPPORTED_SUFFIXES)}")
    if suffix == ".jsonl":
        raise ValueError("a JSONL dump holds many documents; load it with load_corpus")
    size = path.stat().st_size
    if size > MAX_DOCUMENT_BYTES:
        raise ValueError(f"file is {size} bytes; the limit is {MAX_DOCUMENT_BYTES}")
    base, lang = _split_name(path)
    if suffix in TEXT_SUFFIXES:
        try:
            raw = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(f"not valid UTF-8 (byte {exc.start}); re-save it as UTF-8") from exc
        text = normalize_text(raw)
        if not text.strip():
            raise ValueError("file is empty")
        return Document(slugify(base), _title_from(text, base, suffix), lang, text, str(path))
    if size == 0:
        raise ValueError("file is empty")
    # HTML goes in as bytes: trafilatura honours the page's own charset.
    found = extract_pdf(path) if suffix == ".pdf" else extract_page(path.read_bytes())
    return _document(found, slugify(base), lang, _title_from("", base, suffix), str(path))


def document_from(found: Extracted, doc_id: str, source: str, lang: str = "und",
                  fallback_title: str = "") -> Document:
    """A Document from what a reader (or the document API) extracted: the text
    normalised, metadata cleaned, the language ``lang`` unless that is "und".

    Raises:
        FormatError: no text is left once invisible characters are removed, or a field
            holds a lone surrogate.
    """
    return _document(found, doc_id, lang, fallback_title or doc_id, source)


def _document(found: Extracted, doc_id: str, lang: str, fallback_title: str,
              source: str) -> Document:
    """A Document from a reader's result; the file name's language tag wins."""
    check_fields({"id": doc_id, "text": found.text, "title": found.title, "url": found.url,
                  "published": found.published, "author": found.author})
    text = normalize_text(found.text)
    if not text.strip():
        raise FormatError("no text left once invisible characters are removed")
    if lang == "und":
        tag = found.lang.strip().lower()
        lang = tag if re.fullmatch(r"[a-z]{2,3}", tag) else "und"
    return Document(
        doc_id, clean_field(found.title) or fallback_title, lang, text, source,
        url=clean_field(found.url, _MAX_URL_CHARS), published=clean_field(found.published),
        author=clean_field(found.author))


def load_path(path: Path) -> tuple[list[Document], list[CorpusProblem]]:
    """The documents of one file: one, or one per line of a JSONL dump (a bad line is
    reported as ``file:line`` and skipped; the others load)."""
    if lone_surrogate(str(path)):
        # A name that is not UTF-8 (Python keeps its bytes as surrogates): as a title
        # or a source it would stop the build when the store or manifest is written.
        shown = os.fsencode(path).decode("utf-8", "replace")
        return [], [CorpusProblem(shown, "the file name is not valid UTF-8; rename it")]
    if path.suffix.lower() != ".jsonl":
        try:
            return [load_file(path)], []
        except (ValueError, OSError) as exc:
            return [], [CorpusProblem(str(path), str(exc))]
    docs: list[Document] = []
    problems: list[CorpusProblem] = []
    _, lang = _split_name(path)
    try:
        for line, found in read_dump(path, MAX_DOCUMENT_BYTES):
            where = f"{path}:{line}"
            try:
                if isinstance(found, FormatError):
                    raise found
                docs.append(_document(found, found.doc_id, lang, found.doc_id, where))
            except FormatError as exc:
                problems.append(CorpusProblem(where, str(exc)))
    except OSError as exc:
        return [], [CorpusProblem(str(path), str(exc))]
    if not docs and not problems:
        problems.append(CorpusProblem(str(path), "file is empty"))
    return docs, problems


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def _expand(paths: Iterable[Path]) -> Iterable[Path]:
    for path in paths:
        if path.is_dir():
            yield from (p for p in _files(path) if p.suffix.lower() in SUPPORTED_SUFFIXES)
        else:
            yield path


def left_out(paths: Iterable[Path]) -> list[Path]:
    """The files a folder among ``paths`` holds that are not of a type Tanya reads (a
    ``.docx``, a spreadsheet), which ``load_corpus`` passes over; hidden files and
    folders are not counted."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += [p for p in _files(path) if p.suffix.lower() not in SUPPORTED_SUFFIXES
                      and not any(part.startswith(".") for part in p.relative_to(path).parts)]
    return found


def load_corpus(paths: Iterable[Path]) -> tuple[list[Document], list[CorpusProblem]]:
    """Load files and directories; bad files are reported by name and skipped whole (a bad
    line of a JSONL dump by ``file:line``, the rest of the dump still loads)."""
    docs: list[Document] = []
    problems: list[CorpusProblem] = []
    seen: dict[str, str] = {}
    for path in _expand(paths):
        if not path.exists():
            problems.append(CorpusProblem(str(path), "no such file or directory"))
            continue
        loaded, found = load_path(path)
        problems += found
        for doc in loaded:
            if doc.doc_id in seen:
                problems.append(CorpusProblem(
                    doc.source,
                    f"same document id {doc.doc_id!r} as {seen[doc.doc_id]}; rename one"))
                continue
            seen[doc.doc_id] = doc.source
            docs.append(doc)
    return docs, problems
