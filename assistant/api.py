"""The HTTP API for portals: ``/api/ask``, OpenAI-compatible chat completions, the document
API (``assistant.api_documents``), probes.

A thin adapter over :class:`TanyaService`: parse, check limits, call the service in a
worker thread (answering is synchronous CPU work), shape the JSON. Domain errors
become ``{"error": {"message", "type"}}`` with the error's HTTP status.

    app = make_api(service, settings)      # then: uvicorn.run(app)
    # curl -d '{"question": "What does Kyiv demand?"}' localhost:8000/api/ask
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import Any, Literal

import anyio
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr
from starlette.background import BackgroundTask
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.errors import (
    ConfigError,
    IndexNotBuiltError,
    LLMError,
    LLMTimeoutError,
    StoreUnavailableError,
    TanyaError,
)
from assistant.ratelimit import (
    RATE_LIMITED,
    BodySizeLimit,
    ConcurrencyGate,
    RateLimiter,
    error_response,
    rate_limit_headers,
)
from assistant.service import StreamEvent, TanyaService
from assistant.settings import Settings
from assistant.types import Answer
from index.formats import lone_surrogate

log = logging.getLogger("tanya")

READY_TIMEOUT_S = 4.0
#: What ``/api/status`` shows of ``TanyaService.status`` (not the store's path or host).
_STATUS_FIELDS = ("index", "chunks", "sentences", "unserved_chunks", "embedder", "dimension",
                  "built_at", "split_builds")
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?")
# 5xx details (hosts, driver messages) go to the log; users get these instead.
_PUBLIC_5XX = {
    StoreUnavailableError: "the document store is unreachable; try again shortly",
    LLMTimeoutError: "the language model backend did not answer in time; try again",
    LLMError: "the language model backend failed; try again",
}


# -- errors --------------------------------------------------------------------------
class ApiError(Exception):
    """An HTTP-level refusal (auth, limits) carrying its status, type and headers."""

    def __init__(self, status: int, kind: str, message: str,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message
        self.headers = headers or {}


def describe_error(exc: TanyaError) -> tuple[int, str, str]:
    """``(status, type, message)`` safe to show anyone: no paths, hosts or tracebacks."""
    # BadQuestionError -> bad_question, LLMError -> llm, LLMTimeoutError -> llm_timeout
    kind = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_",
                  type(exc).__name__.removesuffix("Error")).lower()
    if exc.status < 500 or isinstance(exc, IndexNotBuiltError):
        return exc.status, kind, str(exc)
    for cls, message in _PUBLIC_5XX.items():
        if isinstance(exc, cls):
            return exc.status, kind, message
    return exc.status, kind, "the assistant failed to answer; try again shortly"


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.kind, exc.message, exc.headers)

    @app.exception_handler(TanyaError)
    async def _tanya_error(request: Request, exc: TanyaError) -> JSONResponse:
        status, kind, message = describe_error(exc)
        if status >= 500:
            log.warning("%s %s -> %s: %s", request.method, request.url.path, status, exc)
        return error_response(status, kind, message)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        message = _validation_message(exc)
        content_type = request.headers.get("content-type", "")
        if request.method == "POST" and "json" not in content_type.lower():
            # curl -d sends a form type: FastAPI then never reads the body as JSON.
            message += (f" (the body was sent as {content_type or 'no content type'}; "
                        "send it as JSON, with Content-Type: application/json)")
        return error_response(422, "invalid_request", message)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and str(exc.detail).startswith("There was an error parsing"):
            # FastAPI's answer when json.loads itself fails: bytes that are not UTF-8,
            # or nesting too deep. The body was read already (Starlette keeps it).
            try:
                (await request.body()).decode("utf-8")
            except UnicodeDecodeError as bad:
                return error_response(422, "invalid_request",
                                      f"the request body is not UTF-8 (byte {bad.start}); "
                                      "send JSON encoded as UTF-8")
            return error_response(422, "invalid_request",
                                  "the request body is not valid JSON (or nested too deeply)")
        return error_response(exc.status_code, _snake(str(exc.detail)), str(exc.detail),
                              dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error in %s %s", request.method, request.url.path)
        return error_response(500, "internal_error",
                              "the assistant failed unexpectedly; the details are logged")


def _validation_message(exc: RequestValidationError) -> str:
    first = exc.errors()[0] if exc.errors() else {}
    if first.get("type") == "json_invalid":
        return "the request body is not valid JSON"
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
    return f"{where}: {first.get('msg', 'invalid value')}"


def _snake(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "error"


# -- request models ------------------------------------------------------------------
class HistoryTurn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["user", "assistant"]
    content: StrictStr


class AskRequest(BaseModel):
    """Body of ``POST /api/ask``."""

    model_config = ConfigDict(extra="forbid")
    question: StrictStr
    history: list[HistoryTurn] = Field(default_factory=list)
    k: StrictInt | None = None


class _TextPart(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: str
    text: StrictStr = ""


# OpenAI's message roles: system and developer instructions and tool results are
# accepted (and not used); another role is a mistake worth naming.
CHAT_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: StrictStr
    content: StrictStr | list[_TextPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(p.text for p in self.content if p.type == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    """Body of ``POST /v1/chat/completions``; other OpenAI fields are accepted and ignored."""

    model_config = ConfigDict(extra="ignore")
    model: StrictStr = "tanya"
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    k: StrictInt | None = None  # Tanya extension: passages to retrieve

    def question_and_history(self) -> tuple[str, list[dict[str, str]]]:
        """Last user message is the question; earlier user/assistant turns are history."""
        if problem := lone_surrogate(self.model):  # echoed in the answer: must be JSON
            raise ApiError(422, "invalid_request", f"model: {problem}")
        for i, m in enumerate(self.messages):
            if m.role not in CHAT_ROLES:
                raise ApiError(422, "invalid_request",
                               f"messages[{i}]: role {m.role[:40]!r} is not one of "
                               f"{', '.join(sorted(CHAT_ROLES))}")
        last = max((i for i, m in enumerate(self.messages) if m.role == "user"), default=None)
        if last is None:
            raise ApiError(422, "invalid_request", "messages: needs at least one user message")
        history = [{"role": m.role, "content": m.text()} for m in self.messages[:last]
                   if m.role in ("user", "assistant")]
        return self.messages[last].text(), history


# -- middleware ----------------------------------------------------------------------
class SecurityHeaders:
    """Framing policy for every response: only ``origins`` may embed the chat window."""

    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self.app = app
        if origins:
            ancestors = " ".join(["'self'", *origins]) if "*" not in origins else "*"
            self.headers = [(b"content-security-policy",
                             f"frame-ancestors {ancestors}".encode())]
        else:
            self.headers = [(b"content-security-policy", b"frame-ancestors 'none'"),
                            (b"x-frame-options", b"DENY")]
        self.headers += [(b"x-content-type-options", b"nosniff"),
                         (b"referrer-policy", b"no-referrer")]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def check_origins(origins: list[str]) -> list[str]:
    """Origins as ``scheme://host[:port]`` (or ``*``); anything else could inject CSP."""
    for origin in origins:
        if origin != "*" and not _ORIGIN.fullmatch(origin):
            raise ConfigError(f"allowed origin {origin!r} must look like https://portal.example")
    return origins


# -- the app -------------------------------------------------------------------------
def make_api(service: TanyaService, settings: Settings | None = None) -> FastAPI:
    """The API app over ``service``; the chat window can be mounted on it at ``/``."""
    settings = settings or service.settings
    origins = check_origins(settings.origins)
    # The path prefix (settings.root_path) is the server's business: see server.serve.
    app = FastAPI(title="Tanya", version="1", docs_url=None, redoc_url=None,
                  openapi_url="/api/openapi.json")
    from assistant.api_documents import AdminGate, add_document_routes, is_document_route

    guard = _Guard(settings)
    # Added innermost first: CORS must wrap the rest so that browsers can read 413/401s.
    # The admin gate answers before the body limit reads anything of a document upload.
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes,
                       larger=(is_document_route, settings.max_upload_bytes))
    app.add_middleware(AdminGate, key=settings.admin_key, limiter=guard.limiter)
    app.add_middleware(SecurityHeaders, origins=origins)
    app.add_middleware(CORSMiddleware, allow_origins=origins, allow_credentials=False,
                       allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
                       allow_headers=["Authorization", "Content-Type"], max_age=600)
    _install_error_handlers(app)
    add_document_routes(app, service, settings)
    app.state.rate_limiter = guard.limiter  # the chat window shares it (server.py)
    gate = ConcurrencyGate(settings.max_concurrent_requests)

    @app.get("/healthz", tags=["probes"])
    async def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["probes"])
    async def readyz() -> dict[str, Any]:
        """The index is loaded and the store answers; 503 otherwise, within seconds."""
        def check() -> dict[str, Any]:
            service.store.heartbeat()
            manifest = service.manifest()
            return {"status": "ready", "index": manifest.name, "embedder": manifest.embedder,
                    "chunks": manifest.chunk_count}
        try:
            with anyio.fail_after(READY_TIMEOUT_S):
                return await anyio.to_thread.run_sync(check, abandon_on_cancel=True)
        except TimeoutError:
            raise StoreUnavailableError("readiness check timed out") from None

    @app.get("/api/status", tags=["api"], dependencies=[Depends(guard)])
    async def index_status() -> dict[str, Any]:
        """The index: documents, chunks, embedder, when built; and ``build``, the running
        or last build or update with its progress, rate and ETA (from any process)."""
        status = await run_in_threadpool(service.status)
        builds = [{k: v for k, v in b.items() if k not in ("pid", "host")}  # no hosts
                  for b in status["builds"]]
        return {key: status[key] for key in _STATUS_FIELDS} | {
            "documents": len(status["documents"]), "build": builds[0] if builds else None,
            "builds": builds}

    @app.post("/api/ask", tags=["api"], dependencies=[Depends(guard)])
    async def ask(body: AskRequest) -> JSONResponse:
        """Answer one question; the body of the response is DESIGN.md's JSON contract."""
        history = [t.model_dump() for t in body.history]
        with _admitted(gate):
            answer = await run_in_threadpool(service.ask, body.question, history, body.k)
        return JSONResponse(answer.to_dict())

    @app.get("/v1/models", tags=["openai"], dependencies=[Depends(guard)])
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [
            {"id": "tanya", "object": "model", "created": 0, "owned_by": "tanya"}]}

    @app.post("/v1/chat/completions", tags=["openai"], dependencies=[Depends(guard)])
    async def chat_completions(body: ChatRequest) -> Response:
        """OpenAI-compatible; ``citations`` (and ``refused``) ride along in the response."""
        question, history = body.question_and_history()
        meta = _CompletionMeta(body.model)
        if not body.stream:
            with _admitted(gate):
                answer = await run_in_threadpool(service.ask, question, history, body.k)
            return JSONResponse(_completion(meta, answer))
        if not gate.try_enter():
            raise _overloaded()
        release = _once(gate.leave)
        try:
            events = service.stream(question, history, body.k)
            # Run the first step before answering 200: bad questions still get a 422.
            first = await run_in_threadpool(next, events)
        except BaseException:
            release()
            raise
        # Released when the stream ends, or by the background task if it never starts.
        return StreamingResponse(_completion_events(meta, first, events, release),
                                 media_type="text/event-stream", background=BackgroundTask(release),
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    _add_unknown_route_answers(app)
    return app


_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def _add_unknown_route_answers(app: FastAPI) -> None:
    """A path under ``/api/`` or ``/v1/`` that no route serves, or a method it does not
    take, answers in the API's error format (404 or 405 with ``Allow``); with a trailing
    slash added to a real route's path, it redirects (307) as Starlette would. Without
    these the chat window, mounted at ``/``, answered them with its own ``{"detail":
    ...}``. Added last, so every route added before matches first; a route under these
    prefixes added after ``make_api`` would never be reached."""
    from starlette.routing import Match

    served = list(app.router.routes)

    def matched(scope: dict[str, Any]) -> list[Any]:
        return [route for route in served if route.matches(scope)[0] != Match.NONE]

    async def unknown(request: Request) -> Response:
        path = request.scope["path"]
        if path.endswith("/") and matched({**request.scope, "path": path.rstrip("/")}):
            # As Starlette does when nothing matches: /api/ask/ -> /api/ask.
            return RedirectResponse(request.url.replace(path=request.url.path.rstrip("/")),
                                    status_code=307)
        allowed = sorted({method for route in served
                          if route.matches(request.scope)[0] == Match.PARTIAL
                          for method in getattr(route, "methods", None) or ()})
        if allowed:
            raise ApiError(405, "method_not_allowed",
                           f"{request.method} is not allowed on {request.url.path[:200]}; "
                           f"use {', '.join(allowed)}", {"Allow": ", ".join(allowed)})
        raise ApiError(404, "not_found", f"no endpoint at {request.url.path[:200]}; the API's "
                       "endpoints are /api/ask, /api/status and /v1/chat/completions")

    for prefix in ("/api/", "/v1/"):
        app.add_api_route(prefix + "{rest:path}", unknown, methods=_METHODS,
                          include_in_schema=False)


class _Guard:
    """Rate limit, then API key: a FastAPI dependency for every API route."""

    def __init__(self, settings: Settings) -> None:
        self.key = settings.api_key.encode()
        self.limiter = RateLimiter(settings.rate_limit_per_minute)

    async def __call__(self, request: Request) -> None:  # async: no threadpool hop
        client = request.client.host if request.client else "unknown"
        limited = rate_limit_headers(self.limiter, client)
        if limited:
            raise ApiError(429, "rate_limited", RATE_LIMITED, limited)
        if self.key and not bearer_matches(request.headers.get("authorization", ""), self.key):
            raise ApiError(401, "unauthorized",
                           "missing or wrong API key; send 'Authorization: Bearer <key>'",
                           {"WWW-Authenticate": "Bearer"})


def bearer_matches(header: str, key: bytes) -> bool:
    """Whether ``header`` is ``Bearer <key>``, compared in constant time."""
    scheme, _, token = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), key)


def _overloaded() -> ApiError:
    return ApiError(503, "overloaded", "the assistant is busy; retry in a moment",
                    {"Retry-After": "1"})


@contextmanager
def _admitted(gate: ConcurrencyGate) -> Iterator[None]:
    if not gate.try_enter():
        raise _overloaded()
    try:
        yield
    finally:
        gate.leave()


def _once(release: Callable[[], None]) -> Callable[[], None]:
    done = False

    def release_once() -> None:
        nonlocal done
        if not done:
            done = True
            release()
    return release_once


# -- OpenAI shapes -------------------------------------------------------------------
class _CompletionMeta:
    def __init__(self, model: str) -> None:
        self.id = f"chatcmpl-{uuid.uuid4().hex}"
        self.created = int(time.time())
        self.model = model

    def envelope(self, kind: str) -> dict[str, Any]:
        return {"id": self.id, "object": kind, "created": self.created, "model": self.model}


def _completion(meta: _CompletionMeta, answer: Answer) -> dict[str, Any]:
    return {**meta.envelope("chat.completion"),
            "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                         "message": {"role": "assistant", "content": answer.answer}}],
            **_extras(answer)}


def _extras(answer: Answer) -> dict[str, Any]:
    return {"citations": [c.to_dict() for c in answer.citations], "refused": answer.refused,
            "answer_span": answer.answer_span.to_dict() if answer.answer_span else None}


def _chunk(meta: _CompletionMeta, delta: dict[str, Any], finish: str | None = None,
           **extra: Any) -> str:
    data = {**meta.envelope("chat.completion.chunk"),
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish,
                         "logprobs": None}], **extra}
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"


async def _completion_events(meta: _CompletionMeta, first: StreamEvent,
                             events: Iterator[StreamEvent], release: Callable[[], None]
                             ) -> AsyncIterator[str]:
    """SSE chunks: role, content deltas, a final chunk with citations, ``[DONE]``."""
    try:
        yield _chunk(meta, {"role": "assistant", "content": ""})
        async for kind, value in _prepend(first, iterate_in_threadpool(events)):
            if kind == "delta":
                yield _chunk(meta, {"content": value})
            elif kind == "answer":
                yield _chunk(meta, {}, "stop", **_extras(value))
    except TanyaError as exc:
        status, kind, message = describe_error(exc)
        log.warning("stream failed (%s): %s", status, exc)
        yield f"data: {json.dumps({'error': {'message': message, 'type': kind}})}\n\n"
    except Exception:
        log.exception("stream failed")
        error = {"message": "the answer stream failed", "type": "internal_error"}
        yield f"data: {json.dumps({'error': error})}\n\n"
    finally:
        release()
    yield "data: [DONE]\n\n"


async def _prepend(first: StreamEvent, rest: AsyncIterator[StreamEvent]
                   ) -> AsyncIterator[StreamEvent]:
    yield first
    async for event in rest:
        yield event
