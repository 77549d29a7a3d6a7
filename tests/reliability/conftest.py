"""Fixtures for the reliability and security suite: a live `tanya serve` over the bundled
article plus documents full of attacks, and clients that choose their loopback source
address (each test is its own client to the rate limiter)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.reliability.hostile import ARTICLE_FILE, write_hostile_corpus
from tests.reliability.processes import tanya
from tests.support.live_server import LiveServer

RATE_LIMIT = 20  # per minute and client on the shared server: 429s are quick to provoke


@pytest.fixture(scope="session")
def hostile_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`tanya serve` (hash embedder) over the article and the hostile documents."""
    home = tmp_path_factory.mktemp("hostile-home")
    corpus = write_hostile_corpus(home / "corpus")
    built = tanya(home, "index", "build", "--corpus", str(ARTICLE_FILE), "--corpus",
                  str(corpus), env={"TANYA_EMBEDDER": "hash:64"})
    assert built.returncode == 0, built.stderr
    # The sentence path: the reader is calibrated for e5 only (with the hash embedder it
    # refuses), and what is tested here is that quoted markup stays inert.
    server = LiveServer(home, env={"TANYA_EMBEDDER": "hash:64", "TANYA_READER": "off",
                                   "TANYA_RATE_LIMIT_PER_MINUTE": str(RATE_LIMIT)}).start()
    yield server
    server.stop()


def client_from(server: LiveServer, source: str) -> httpx.Client:
    """An HTTP client to ``server`` whose connections come from loopback address ``source``."""
    return httpx.Client(base_url=server.url, timeout=30,
                        transport=httpx.HTTPTransport(local_address=source))
