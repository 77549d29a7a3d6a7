"""Shared fixtures. Nothing here reaches the network: models come from installed packages."""

from __future__ import annotations

import os

# Set before anything imports huggingface, chroma or gradio.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["ANONYMIZED_TELEMETRY"] = "False"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from assistant.service import TanyaService
from assistant.settings import Settings
from index.documents import Document, bundled_documents
from index.embedders import E5SmallQ4Embedder, HashEmbedder
from tests.support.fake_openai import FakeLLMServer
from tests.support.servers import ChromaServer, chroma_binary, require
from tests.support.settings import session_settings

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Offline and quiet: no updates, sync or QUIC probes from the browser.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]


def pytest_configure(config: pytest.Config) -> None:
    """Every server the tests talk to is on 127.0.0.1: a proxy from the developer's shell
    would see (or break) those requests, since the tests' HTTP clients trust the
    environment."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                 "all_proxy"):
        os.environ.pop(name, None)
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for the session: the reader's converted base and graph are built once
    (about 15 s), not per test."""
    return tmp_path_factory.mktemp("tanya-cache")


@pytest.fixture(autouse=True)
def tanya_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_cache: Path) -> Path:
    """Every test gets its own data directory (the derived-model cache is shared)."""
    home = tmp_path / "tanya-home"
    monkeypatch.setenv("TANYA_HOME", str(home))
    monkeypatch.setenv("TANYA_CACHE", str(shared_cache))
    monkeypatch.delenv("TANYA_CHROMA_URL", raising=False)
    monkeypatch.delenv("TANYA_API_KEY", raising=False)
    monkeypatch.delenv("TANYA_ADMIN_KEY", raising=False)
    # A developer's own environment must not change what in-process tests see.
    for name in ("TANYA_LLM", "TANYA_EMBEDDER", "TANYA_INDEX", "TANYA_K", "TANYA_ALLOWED_ORIGINS",
                 "TANYA_ROOT_PATH", "TANYA_RATE_LIMIT_PER_MINUTE",
                 "TANYA_MAX_CONCURRENT_REQUESTS", "TANYA_MAX_BODY_BYTES",
                 "TANYA_MAX_UPLOAD_BYTES",
                 "TANYA_MAX_QUESTION_CHARS", "TANYA_REFUSAL_THRESHOLD", "TANYA_LLM_TIMEOUT",
                 "TANYA_READER_THRESHOLD", "TANYA_CALIBRATION",
                 "OPENAI_BASE_URL", "OPENAI_API_KEY", "OLLAMA_HOST"):
        monkeypatch.delenv(name, raising=False)
    # Tests of everything but the reader run the sentence path (seconds, not minutes, on
    # 2 cores); the reader, the default, is tested with `e5_service` (built with
    # Settings' own default), the gate, and the tests that ask for it by name.
    monkeypatch.setenv("TANYA_READER", "off")
    return home


@pytest.fixture(scope="session")
def article() -> Document:
    return bundled_documents()[0]


@pytest.fixture(scope="session")
def e5() -> E5SmallQ4Embedder:
    return E5SmallQ4Embedder()


@pytest.fixture
def hash_service(tanya_home: Path) -> TanyaService:
    """A service over the article with the fake embedder: fast, no model."""
    service = TanyaService(session_settings(home=tanya_home, embedder="hash:64"),
                           embedder=HashEmbedder(64))
    service.build()
    return service


@pytest.fixture(scope="session")
def e5_service(tmp_path_factory: pytest.TempPathFactory, e5: E5SmallQ4Embedder,
               shared_cache: Path) -> TanyaService:
    """The real default embedder over the bundled article with the reader on (the
    calibrated, gated configuration), built once per session."""
    home = tmp_path_factory.mktemp("e5-home")
    service = TanyaService(Settings(home=home, cache=str(shared_cache), reader="on"),
                           embedder=e5)
    service.build()
    return service


@pytest.fixture(scope="session")
def e5_sentence_service(e5_service: TanyaService, e5: E5SmallQ4Embedder) -> TanyaService:
    """The same index with the reader off: the sentence-only path (`--reader off`)."""
    service = TanyaService(replace(e5_service.settings, reader="off"), embedder=e5)
    service.build()  # the index is up to date: nothing is embedded again
    return service


@pytest.fixture
def fake_llm() -> Iterator[FakeLLMServer]:
    """A fake OpenAI-compatible/Ollama server on 127.0.0.1 that records what it got."""
    server = FakeLLMServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Debian Chromium for the whole session (e2e and reliability tests).

    One instance only: Playwright's sync API cannot start a second one in the same thread.
    """
    require(os.path.exists(CHROMIUM), "Debian chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "the playwright Python package is not installed")
        raise
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    """A real `chroma run` on 127.0.0.1 for the whole session."""
    require(chroma_binary() is not None, "the chroma CLI is not installed")
    server = ChromaServer(tmp_path_factory.mktemp("chroma-server") / "data").start()
    yield server
    server.stop()
