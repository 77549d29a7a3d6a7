"""The corpus of a serving index: add, replace, list and remove documents.

:class:`DocumentAdmin` is what the document API (``assistant.api_documents``) and
``tanya index add/remove/list`` adapt. Writes go through :class:`index.updates.DocumentUpdater`
under the build lock, so questions asked meanwhile, in this process or another one on
the same store, see the index before or after a change, never a mix. The parsing
helpers turn a posted JSON document or an uploaded file into
:class:`~index.documents.Document` objects with the corpus loaders of ``index``.

    admin = DocumentAdmin(service)
    report = admin.add([document_from_json(b'{"id": "a-1", "text": "Kyiv menuntut ..."}')])
    report.summary()        # '1 added, 0 changed, 0 removed, 0 unchanged; 1 chunks embedded'
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from assistant.errors import (
    BadDocumentError,
    DocumentNotFoundError,
    IndexBusyError,
    UnsupportedFormatError,
)
from assistant.service import TanyaService
from index.builder import Progress, build_lock
from index.documents import SUPPORTED_SUFFIXES, Document, document_from, load_path, slugify
from index.formats import FormatError, check_fields
from index.formats.html import extract_page, is_page
from index.formats.jsonl import parse_record
from index.manifest import DocumentRecord
from index.progress import recorded_progress
from index.updates import KEEP_UNSERVED_SECONDS, UpdateReport, drop_unserved

log = logging.getLogger("tanya")

#: The fields of a posted document (``text`` or ``html`` is required).
FIELDS = ("id", "title", "url", "published", "author", "lang", "text", "html")
_META = ("title", "url", "published", "author", "lang")
#: How long a write waits for another process's build or update to finish.
LOCK_WAIT_SECONDS = 30.0
#: At most this many problems are listed in an error (a dump may have thousands).
_MAX_PROBLEMS = 50
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class DocumentAdmin:
    """Adds, replaces, lists and removes the documents of ``service``'s index.

    ``drop_later``: after a change, drop the replaced versions once no question can be
    reading them (a serving process; a one-shot CLI leaves them to the next update).
    """

    def __init__(self, service: TanyaService, drop_later: bool = False,
                 lock_wait: float = LOCK_WAIT_SECONDS) -> None:
        self.service = service
        self.drop_later = drop_later
        self.lock_wait = lock_wait
        self._writing = threading.Lock()  # one write at a time in this process

    @property
    def index(self) -> str:
        return self.service.settings.index

    # -- writes ---------------------------------------------------------------------
    def add(self, docs: Sequence[Document], progress: Progress | None = None) -> UpdateReport:
        """Index ``docs``: new ones are added, changed ones replaced (exactly their
        chunks), unchanged ones embed nothing."""
        return self._apply(docs, (), progress)

    def remove(self, doc_ids: Sequence[str]) -> UpdateReport:
        """Remove the documents ``doc_ids``; none is removed if one of them is not there."""
        return self._apply((), doc_ids, None)

    def _apply(self, docs: Sequence[Document], remove: Sequence[str],
               progress: Progress | None) -> UpdateReport:
        from index.updates import DocumentUpdater

        with (self._locked(),
              recorded_progress(self.service.store, "update", progress) as recorded):
            report = DocumentUpdater(self.service.store, self.service.embedder,
                                     recorded).apply(docs, remove)
        self.service.reload()  # this process answers from the new index at once
        if report.unserved_left and self.drop_later:
            self._drop_after(KEEP_UNSERVED_SECONDS + 1.0)
        return report

    @contextmanager
    def _locked(self, wait: float | None = None) -> Iterator[None]:
        """This process's write lock, then the build lock, waiting up to ``lock_wait``
        for another process's build or update to finish."""
        wait = self.lock_wait if wait is None else wait
        deadline = time.monotonic() + wait
        if not self._writing.acquire(timeout=max(wait, 0.001)):
            raise IndexBusyError(f"another update of index {self.index!r} is running; "
                                 "retry when it has finished")
        try:
            while True:
                with ExitStack() as stack:
                    try:
                        stack.enter_context(build_lock(self.service.settings.home, self.index))
                    except IndexBusyError:
                        if time.monotonic() >= deadline:
                            raise
                        time.sleep(0.2)
                        continue
                    yield
                    return
        finally:
            self._writing.release()

    def _drop_after(self, delay: float, attempts: int = 5) -> None:
        timer = threading.Timer(delay, self._drop_due, kwargs={"attempts": attempts})
        timer.daemon = True
        timer.start()

    def _drop_due(self, attempts: int) -> None:
        """Drop the replaced versions that are due; retried while a write holds the lock."""
        try:
            with self._locked(wait=0):
                manifest = self.service.store.read_manifest()
                if manifest is not None:
                    drop_unserved(self.service.store, manifest)
        except IndexBusyError:
            if attempts > 1:
                self._drop_after(5.0, attempts - 1)
        except Exception as exc:  # best effort: the next update drops them too
            log.warning("dropping replaced document versions failed: %s", exc)

    # -- reads ----------------------------------------------------------------------
    def page(self, offset: int = 0, limit: int = 50) -> dict[str, Any]:
        """Documents ``offset``..``offset+limit`` by id, and how many there are."""
        manifest = self.service.store.read_manifest()
        records = sorted(manifest.documents.items()) if manifest else []
        return {"index": self.index, "total": len(records), "offset": offset, "limit": limit,
                "documents": [describe(d, r) for d, r in records[offset:offset + limit]]}

    def get(self, doc_id: str) -> dict[str, Any]:
        """One document's record.

        Raises:
            DocumentNotFoundError: no such document.
        """
        manifest = self.service.store.read_manifest()
        record = manifest.documents.get(doc_id) if manifest else None
        if record is None:
            raise DocumentNotFoundError(f"no document {doc_id!r} in index {self.index!r}")
        return {**describe(doc_id, record), "source": record.source,
                "content_hash": record.content_hash}


def describe(doc_id: str, record: DocumentRecord) -> dict[str, Any]:
    """A document as the list shows it."""
    return {"id": doc_id, "title": record.title, "url": record.url,
            "published": record.published, "author": record.author, "lang": record.lang,
            "chunks": record.chunks}


# -- input ---------------------------------------------------------------------------
def document_from_json(raw: bytes) -> Document:
    """A posted document: ``{id?, title?, url?, published?, author?, lang?, text | html}``.

    ``text`` is read like a JSONL record's (plain text, or HTML); ``html`` is a saved page
    (the article and its metadata, as a ``.html`` file) or an article body. Without an
    ``id`` the document is named after its URL, else after its text.

    Raises:
        BadDocumentError: not JSON, not an object, a field of the wrong type, no text.
    """
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise BadDocumentError("the request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise BadDocumentError('the body must be a JSON object, e.g. {"id": "a-1", "text": '
                               '"..."}')
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise BadDocumentError(f"unknown field(s) {', '.join(map(repr, unknown))}; a "
                               f"document has {', '.join(FIELDS)}")
    for key in FIELDS:
        if data.get(key) is not None and not isinstance(data[key], str):
            if key == "id" and isinstance(data[key], int) and not isinstance(data[key], bool):
                continue
            raise BadDocumentError(f"{key!r} must be a string")
    try:
        check_fields(data)
    except FormatError as exc:
        raise BadDocumentError(str(exc)) from None
    text, html = data.get("text"), data.get("html")
    if (text is None) == (html is None):
        raise BadDocumentError("give the article as 'text' (plain text) or as 'html' "
                               "(a page or an article body), one of them")
    record: dict[str, Any] = {k: data[k] for k in _META if data.get(k) is not None}
    try:
        if html is not None and is_page(html):
            page = extract_page(html)
            record["text"] = page.text
            for key, value in (("title", page.title), ("url", page.url),
                               ("published", page.published), ("author", page.author),
                               ("lang", page.lang)):
                record.setdefault(key, value)
        else:
            record["text"] = html if html is not None else text
        record["id"] = data.get("id") if data.get("id") is not None else _derived_id(record)
        found = parse_record(json.dumps(record).encode("utf-8"))
        return document_from(found, found.doc_id, "api")
    except FormatError as exc:
        raise BadDocumentError(str(exc)) from None


def documents_from_upload(filename: str, data: bytes, doc_id: str | None = None,
                          lang: str | None = None) -> list[Document]:
    """The documents of an uploaded file (one, or one per line of a ``.jsonl`` dump),
    read like a file given to ``tanya index build --corpus``. All or nothing: a dump with
    a bad line is refused whole, naming every bad line.

    Raises:
        UnsupportedFormatError: the file's suffix is not one Tanya reads.
        BadDocumentError: the file (or lines of it) cannot be read.
    """
    name = _SAFE_NAME.sub("-", Path(filename or "").name).strip("-.") or "upload"
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnsupportedFormatError(
            f"{filename or 'the upload'}: unsupported file type {suffix or '(none)'!r}; send "
            f"{', '.join(SUPPORTED_SUFFIXES)}")
    if suffix == ".jsonl" and (doc_id or lang):
        raise BadDocumentError("'id' and 'lang' apply to one document; a JSONL dump's "
                               "records carry their own")
    with tempfile.TemporaryDirectory(prefix="tanya-upload-") as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        docs, problems = load_path(path)
    shown = filename or name
    if problems:
        listed = [f"{p.path.replace(str(path), shown)}: {p.reason}" for p in problems]
        raise BadDocumentError(_problems_message(listed), listed[:_MAX_PROBLEMS])
    docs = [replace(d, source=d.source.replace(str(path), f"upload:{shown}")) for d in docs]
    if doc_id is not None or lang is not None:
        [doc] = docs
        if doc_id is not None:
            checked = _checked_id(doc_id)
            doc = replace(doc, doc_id=checked)
        docs = [replace(doc, lang=_checked_lang(lang)) if lang else doc]
    return docs


def _problems_message(listed: list[str]) -> str:
    more = f" (and {len(listed) - 3} more)" if len(listed) > 3 else ""
    return ("nothing was indexed: " + "; ".join(listed[:3]) + more
            + ". Fix them and send it again (unchanged documents are not embedded twice)")


def _checked_id(value: str) -> str:
    try:
        return parse_record(json.dumps({"id": value, "text": "x"}).encode()).doc_id
    except FormatError as exc:
        raise BadDocumentError(str(exc)) from None


def _checked_lang(value: str) -> str:
    tag = value.strip().lower()
    if not re.fullmatch(r"[a-z]{2,3}", tag):
        raise BadDocumentError(f"lang {value[:20]!r} must be a language code like 'id' or 'en'")
    return tag


def _derived_id(record: dict[str, Any]) -> str:
    """An id for a document posted without one: from its URL (so posting the article
    again, edited, replaces it), else from its text."""
    url = str(record.get("url") or "").strip()
    if url:
        slug = slugify(re.sub(r"^[a-z][a-z0-9+.-]*://", "", url, flags=re.IGNORECASE))
        if len(slug) <= 100:
            return slug
        return f"{slug[:90].rstrip('-')}-{hashlib.sha256(url.encode()).hexdigest()[:8]}"
    text = str(record.get("text") or "")
    return f"doc-{hashlib.sha256(text.encode()).hexdigest()[:16]}"


__all__ = ["DocumentAdmin", "describe", "document_from_json", "documents_from_upload"]
