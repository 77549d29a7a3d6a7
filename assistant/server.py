"""One process serving the API and the chat window, or several API-only workers.

``create_app`` builds the API with the chat window mounted at ``/``; ``create_api_app``
is the import-string factory each ``--workers N`` process calls (Gradio keeps sessions
in process memory, so the chat window cannot be spread over workers).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
from typing import Any

from fastapi import FastAPI
from starlette.middleware import Middleware

from assistant.api import make_api
from assistant.errors import ConfigError
from assistant.ratelimit import ChatWindowGuard, error_response
from assistant.service import TanyaService
from assistant.settings import Settings

log = logging.getLogger("tanya")

API_FACTORY = "assistant.server:create_api_app"


def create_app(settings: Settings | None = None, service: TanyaService | None = None
               ) -> FastAPI:
    """API routes plus the chat window at ``/``, over one service."""
    import gradio as gr

    from assistant.ui import CSS, make_ui

    settings = settings or Settings.from_env()
    service = service or TanyaService(settings)
    app = make_api(service, settings)
    # show_error=False: only gr.Error messages (written for users) reach the browser;
    # any other exception's text could carry a path or a host.
    app = gr.mount_gradio_app(
        app, make_ui(service), path="/", root_path=settings.root_path or None,
        footer_links=["api"], run_history=False, ssr_mode=False, pwa=False,
        mcp_server=False, enable_monitoring=False, show_error=False, css=CSS)
    # Innermost, after the body limit and security headers: one quota per client for
    # the API and the window, and Gradio routes the window does not use are closed.
    app.user_middleware.append(Middleware(ChatWindowGuard, limiter=app.state.rate_limiter))
    return app


def create_api_app() -> FastAPI:
    """Worker factory: settings from the environment, API only, warmed up."""
    limit_malloc_arenas()
    from assistant.logs import setup_logging

    setup_logging()  # a fresh process: the CLI's logging set-up did not run here
    settings = Settings.from_env()
    service = TanyaService(settings)
    warm_up(service)
    app = make_api(service, settings)

    @app.get("/", include_in_schema=False)
    async def no_chat_window() -> Any:
        return error_response(404, "not_found", "this server runs API workers only; the chat "
                              "window is served by `tanya serve` with one worker")
    return app


def warm_up(service: TanyaService) -> None:
    """Load the index and the embedder now, so the first request is not the slow one."""
    try:
        service.ask("warm up")
    except Exception as exc:  # readiness reports it; serving must still start
        log.warning("warm-up failed: %s", exc)


def check_workers(settings: Settings, workers: int) -> None:
    """Refuse worker counts that cannot work, saying what to do instead."""
    if workers < 1:
        raise ConfigError("--workers must be at least 1")
    if workers > 1 and not settings.chroma_url:
        raise ConfigError(
            f"--workers {workers} needs a Chroma server: the embedded store is not safe "
            "across processes. Start one (`chroma run --path DIR`) and set TANYA_CHROMA_URL.")


_M_MMAP_THRESHOLD, _M_ARENA_MAX = -3, -8  # glibc's mallopt parameters


def limit_malloc_arenas(arenas: int = 2, mmap_threshold: int = 256 * 1024) -> None:
    """Keep glibc's heap from holding freed memory under concurrent load. Each thread that
    answers gets an arena of its own (up to eight per core), and memory freed in one is
    not reused by another; and glibc raises its mmap threshold each time a large block
    is freed, so later large buffers land in the heap and stay there. Two arenas and a
    fixed threshold (large blocks always mapped, and returned when freed) keep RSS flat.
    A no-op where glibc is absent."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_ARENA_MAX, arenas)
        libc.mallopt(_M_MMAP_THRESHOLD, mmap_threshold)


def serve(settings: Settings, host: str, port: int, workers: int = 1,
          service: TanyaService | None = None) -> None:
    """Run uvicorn until interrupted."""
    import uvicorn

    limit_malloc_arenas()
    check_workers(settings, workers)
    options: dict[str, Any] = {
        "host": host, "port": port, "root_path": settings.root_path, "proxy_headers": True,
        "timeout_graceful_shutdown": 5, "log_level": "info", "server_header": False}
    if workers > 1:
        uvicorn.run(API_FACTORY, factory=True, workers=workers, **options)
        return
    service = service or TanyaService(settings)
    warm_up(service)
    uvicorn.run(create_app(settings, service), **options)
