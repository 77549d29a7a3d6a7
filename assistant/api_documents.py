"""The document API: ``POST/GET/DELETE /api/documents[/{id}]``, behind the admin key.

A thin adapter over :class:`assistant.documents.DocumentAdmin`. :class:`AdminGate` guards
the routes before any of a body is read: off (404) without ``TANYA_ADMIN_KEY``, 401
without the right ``Authorization: Bearer <admin key>``. Bodies may be up to
``TANYA_MAX_UPLOAD_BYTES`` here (``BodySizeLimit``'s limit for this path).

    curl -H "Authorization: Bearer $TANYA_ADMIN_KEY" -F file=@article.id.html \\
         localhost:8000/api/documents
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from assistant.api import bearer_matches
from assistant.documents import DocumentAdmin, document_from_json, documents_from_upload
from assistant.errors import BadDocumentError, UnsupportedFormatError
from assistant.ratelimit import (
    RATE_LIMITED,
    RateLimiter,
    error_response,
    rate_limit_headers,
    route_paths,
)
from assistant.service import TanyaService
from assistant.settings import Settings
from index.documents import Document

PREFIX = "/api/documents"
#: Files one upload may carry (each a document or a JSONL dump).
MAX_FILES = 100
MAX_PAGE = 500


def is_document_route(scope: Scope) -> bool:
    """Whether the request is for the document API (however the path is spelled)."""
    return any(p == PREFIX or p.startswith(PREFIX + "/") for p in route_paths(scope))


class AdminGate:
    """ASGI middleware: the document API is off without an admin key and needs it.

    Runs before the body limit, so a client without the key never gets the upload limit
    (or has a body read at all). Failed attempts count against the client's rate limit,
    so the key cannot be guessed at speed.
    """

    def __init__(self, app: ASGIApp, key: str, limiter: RateLimiter) -> None:
        self.app = app
        self.key = key.encode()
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_document_route(scope):
            await self.app(scope, receive, send)
            return
        if not self.key:
            await error_response(404, "not_found", "the document API is off: set "
                                 "TANYA_ADMIN_KEY on the server to turn it on")(
                scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        if not bearer_matches(headers.get(b"authorization", b"").decode("latin-1"), self.key):
            client = scope.get("client")
            limited = rate_limit_headers(self.limiter, client[0] if client else "unknown")
            if limited:
                response = error_response(429, "rate_limited", RATE_LIMITED, limited)
            else:
                response = error_response(
                    401, "unauthorized", "missing or wrong admin key; send 'Authorization: "
                    "Bearer <TANYA_ADMIN_KEY>' (the asking key does not open this API)",
                    {"WWW-Authenticate": "Bearer"})
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def add_document_routes(app: FastAPI, service: TanyaService, settings: Settings) -> None:
    """Mount the document routes on ``app`` (``AdminGate`` keeps them closed when off)."""
    admin = DocumentAdmin(service, drop_later=True)
    app.state.documents = admin

    @app.exception_handler(BadDocumentError)
    async def _bad_document(_: Request, exc: BadDocumentError) -> JSONResponse:
        error: dict[str, Any] = {"message": str(exc), "type": "bad_document"}
        if exc.problems:
            error["problems"] = exc.problems  # every bad file or line, for a portal to show
        return JSONResponse({"error": error}, status_code=exc.status)

    @app.post(PREFIX, tags=["documents"])
    async def post_documents(request: Request) -> JSONResponse:
        """Add or replace documents: a JSON document, or files as multipart/form-data
        (field ``file``, repeatable; ``id`` and ``lang`` fields for a single document).
        Unchanged documents embed nothing; the reply says what happened to each."""
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind == "application/json":
            raw = await request.body()
            docs = [await run_in_threadpool(document_from_json, raw)]
        elif kind == "multipart/form-data":
            docs = await _uploaded(request)
        else:
            raise UnsupportedFormatError(
                f"cannot read a {kind or 'body without a Content-Type'}: send a JSON "
                "document (application/json) or files (multipart/form-data, field 'file')")
        report = await run_in_threadpool(admin.add, docs)
        return JSONResponse({"index": admin.index, **report.to_dict()})

    @app.get(PREFIX, tags=["documents"])
    async def list_documents(offset: int = Query(0, ge=0),
                             limit: int = Query(50, ge=1, le=MAX_PAGE)) -> JSONResponse:
        """A page of the index's documents, by id: ``{total, offset, limit, documents}``."""
        return JSONResponse(await run_in_threadpool(admin.page, offset, limit))

    @app.get(PREFIX + "/{doc_id}", tags=["documents"])
    async def get_document(doc_id: str) -> JSONResponse:
        """One document: id, title, url, published, author, lang, chunks, source."""
        return JSONResponse(await run_in_threadpool(admin.get, doc_id))

    @app.delete(PREFIX + "/{doc_id}", tags=["documents"])
    async def delete_document(doc_id: str) -> JSONResponse:
        """Remove one document (404 if it is not there)."""
        report = await run_in_threadpool(admin.remove, [doc_id])
        return JSONResponse({"index": admin.index, **report.to_dict()})


async def _uploaded(request: Request) -> list[Document]:
    try:
        form = await request.form(max_files=MAX_FILES, max_fields=MAX_FILES + 10)
    except StarletteHTTPException as exc:
        raise BadDocumentError(f"the upload is not valid multipart/form-data ({exc.detail})"
                               ) from None
    try:
        files = [f for f in form.getlist("file") if isinstance(f, UploadFile)]
        if not files:
            raise BadDocumentError("no file in the upload: send it as the form field 'file' "
                                   "(curl -F file=@article.html)")
        fields = {key: _text_field(form.get(key), key) for key in ("id", "lang")}
        if len(files) > 1 and any(fields.values()):
            raise BadDocumentError("'id' and 'lang' apply to a single uploaded file")
        docs: list[Document] = []
        for upload in files:
            data = await upload.read()
            docs += await run_in_threadpool(documents_from_upload, upload.filename or "",
                                            data, fields["id"], fields["lang"])
        return docs
    finally:
        await form.close()


def _text_field(value: Any, key: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BadDocumentError(f"form field {key!r} must be text, not a file")
    return value
