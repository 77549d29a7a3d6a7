"""Browser end-to-end fixtures: a real `tanya serve` (default embedder) and headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from index.embedders import DEFAULT_EMBEDDER
from tests.support.live_server import LiveServer

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


@pytest.fixture(scope="session")
def e5_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`tanya serve` on a fresh TANYA_HOME with the real default embedder."""
    server = LiveServer(tmp_path_factory.mktemp("e2e-home"),
                        env={"TANYA_EMBEDDER": DEFAULT_EMBEDDER}).start(timeout=180)
    yield server
    server.stop()


@pytest.fixture
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
