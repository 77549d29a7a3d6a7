"""Documents in: the bundled article and user corpora (.txt, .md), normalised once."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

SUPPORTED_SUFFIXES = (".txt", ".md")
MAX_DOCUMENT_BYTES = 20_000_000

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

    @property
    def content_hash(self) -> str:
        """Hash of what the index depends on: text, title and language."""
        payload = "\x00".join((self.title, self.lang, self.text)).encode("utf-8")
        return hashlib.sha256(payload).hexdigest()


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
        docs.append(
            Document(meta["doc_id"], meta["title"], meta["lang"], text, f"bundled:{filename}")
        )
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
    """Read one corpus file; raises ValueError with a reader-friendly reason."""
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise ValueError(f"unsupported file type {path.suffix or '(none)'!r}; use .txt or .md")
    size = path.stat().st_size
    if size > MAX_DOCUMENT_BYTES:
        raise ValueError(f"file is {size} bytes; the limit is {MAX_DOCUMENT_BYTES}")
    try:
        raw = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not valid UTF-8 (byte {exc.start}); re-save it as UTF-8") from exc
    text = normalize_text(raw)
    if not text.strip():
        raise ValueError("file is empty")
    base, lang = _split_name(path)
    return Document(slugify(base), _title_from(text, base, path.suffix.lower()), lang, text,
                    str(path))


def _expand(paths: Iterable[Path]) -> Iterable[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*")
                              if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)
        else:
            yield path


def load_corpus(paths: Iterable[Path]) -> tuple[list[Document], list[CorpusProblem]]:
    """Load files and directories; bad files are reported by name and skipped whole."""
    docs: list[Document] = []
    problems: list[CorpusProblem] = []
    seen: dict[str, str] = {}
    for path in _expand(paths):
        if not path.exists():
            problems.append(CorpusProblem(str(path), "no such file or directory"))
            continue
        try:
            doc = load_file(path)
        except (ValueError, OSError) as exc:
            problems.append(CorpusProblem(str(path), str(exc)))
            continue
        if doc.doc_id in seen:
            problems.append(CorpusProblem(
                str(path), f"same document id {doc.doc_id!r} as {seen[doc.doc_id]}; rename one"))
            continue
        seen[doc.doc_id] = str(path)
        docs.append(doc)
    return docs, problems
