"""The document API for real: `tanya serve --workers 2` on a real `chroma run`, documents
posted, replaced and deleted over HTTP while another thread keeps asking.

What must hold: no answer fails (no 5xx, nothing but 200); no answer mixes the old and the
new version of a document; every worker answers from the new version within seconds of
the write; the replaced versions are dropped once no question can be reading them."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from assistant.service import _MANIFEST_RECHECK_SECONDS as RECHECK_S
from assistant.service import TanyaService
from assistant.settings import Settings
from index.embedders import HashEmbedder
from index.updates import KEEP_UNSERVED_SECONDS
from tests.support.live_server import LiveServer
from tests.support.servers import ChromaServer

pytestmark = [pytest.mark.integration, pytest.mark.slow]

KEY = "live-admin-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
INDEX = "documents-live"
QUESTION = "Berapa menara biru di kota Zorblat?"
VERSIONS = ("tujuh", "sembilan")
#: Every worker re-reads the manifest every RECHECK_S seconds, so every worker answers
#: from a change within this (plus a reload).
SWITCH_S = 5.0
#: Other articles posted with the change, so that the update takes a while.
FILLER = 150


def zorblat(version: str) -> dict[str, str]:
    """A document of three chunks, each naming its version."""
    text = "\n\n".join(
        f"Kota Zorblat memiliki {version} menara biru di tepi sungai Quenta nomor {i}. Para "
        f"pedagang Zorblat menjual kain {version} setiap pagi di pasar besar, dan wali kota "
        f"mencatat {version} kapal yang berlabuh di pelabuhan tua sepanjang musim hujan "
        f"tahun lalu, menurut laporan resmi yang dibacakan di balai kota."
        for i in range(3))
    return {"id": "zorblat", "title": "Kota Zorblat", "lang": "id", "text": text,
            "url": "https://news.example/zorblat", "published": "2024-03-05"}


def filler_dump(n: int) -> bytes:
    """``n`` unrelated articles: an update big enough to take a while."""
    lines = []
    for i in range(n):
        text = "\n\n".join(
            f"Laporan cuaca {i}-{p}: hujan ringan turun di wilayah pegunungan sepanjang sore, "
            f"suhu udara turun dan angin bertiup dari arah barat daya menuju lembah "
            f"pertanian, kata petugas stasiun pengamatan setempat kepada wartawan."
            for p in range(3))
        lines.append(json.dumps({"id": f"cuaca-{i}", "title": f"Cuaca {i}", "text": text}))
    return "\n".join(lines).encode()


@dataclass
class Asked:
    started: float
    ended: float
    status: int
    versions: frozenset[str]  # versions of zorblat among the passages and citations


class Asker(threading.Thread):
    """Asks QUESTION over and over, each time on a new connection (so both workers
    answer), until stopped."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.results: list[Asked] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        limits = httpx.Limits(max_keepalive_connections=0)
        with httpx.Client(base_url=self.url, timeout=30, limits=limits) as http:
            while not self.stopped.is_set():
                self.results.append(ask(http))

    def stop(self) -> list[Asked]:
        self.stopped.set()
        self.join(60)
        return self.results


def ask(http: httpx.Client) -> Asked:
    started = time.monotonic()
    response = http.post("/api/ask", json={"question": QUESTION})
    versions: set[str] = set()
    if response.status_code == 200:
        body = response.json()
        texts = [p["text"] for p in body["passages"] if p["doc_id"] == "zorblat"]
        texts += [c["quote"] for c in body["citations"] if c["doc_id"] == "zorblat"]
        versions = {v for v in VERSIONS for t in texts if v in t}
    return Asked(started, time.monotonic(), response.status_code, frozenset(versions))


def wait_for(url: str, versions: frozenset[str], timeout: float = 60) -> float:
    """Seconds from now until the first of a run of asks (new connections: both workers)
    that all see ``versions`` and span more than a worker's manifest recheck: a worker
    still serving the old index answers some of them, so a shorter run can be luck."""
    started = time.monotonic()
    limits = httpx.Limits(max_keepalive_connections=0)
    with httpx.Client(base_url=url, timeout=30, limits=limits) as fresh:
        streak: list[Asked] = []
        while time.monotonic() - started < timeout:
            asked = ask(fresh)
            streak = [*streak, asked] if asked.versions == versions else []
            if len(streak) >= 5 and streak[-1].ended - streak[0].started > RECHECK_S + 0.5:
                return streak[0].started - started
            time.sleep(0.05)
    raise AssertionError(f"the workers did not all see {set(versions)} within {timeout}s")


@pytest.fixture(scope="module")
def server(chroma_server: ChromaServer, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path_factory.mktemp("documents-live"), args=["--workers", "2"],
                        env={"TANYA_EMBEDDER": "hash:64", "TANYA_CHROMA_URL": chroma_server.url,
                             "TANYA_INDEX": INDEX, "TANYA_ADMIN_KEY": KEY,
                             "TANYA_RATE_LIMIT_PER_MINUTE": "0",
                             # the reader is not the point here: the sentence path is quicker
                             "TANYA_READER": "off"}).start()
    yield server
    server.stop()


def test_questions_during_updates_see_the_old_or_the_new_index(
        server: LiveServer, chroma_server: ChromaServer) -> None:
    assert len(server.workers()) == 2
    http = httpx.Client(base_url=server.url, timeout=60, headers=AUTH)
    # The bundled article goes: questions about Zorblat then have only Zorblat to answer.
    gone = http.delete("/api/documents/jaminan-keamanan-ukraina")
    assert gone.status_code == 200 and gone.json()["removed"] == 1
    first = http.post("/api/documents", json=zorblat("tujuh")).json()
    assert first["added"] == 1 and first["chunks_embedded"] == 3
    wait_for(server.url, frozenset({"tujuh"}))

    asker = Asker(server.url)
    asker.start()
    time.sleep(1.0)
    # One upload: other articles and Zorblat's new version, switched to together.
    posting = time.monotonic()
    dump = filler_dump(FILLER) + b"\n" + json.dumps(zorblat("sembilan")).encode()
    changed = http.post("/api/documents", files={"file": ("archive.jsonl", dump)}).json()
    posted = time.monotonic()
    assert changed["added"] == FILLER and changed["changed"] == 1
    switch = wait_for(server.url, frozenset({"sembilan"}))
    time.sleep(0.5)
    deleting = time.monotonic()
    assert http.delete("/api/documents/zorblat").json()["removed"] == 1
    deleted = time.monotonic()
    wait_for(server.url, frozenset())
    time.sleep(0.5)
    results = asker.stop()

    assert len(results) >= 10, "questions were asked all along"
    failed = [r.status for r in results if r.status != 200]
    assert not failed, f"answers failed during the updates: {failed}"
    mixed = [r for r in results if len(r.versions) > 1]
    assert not mixed, "an answer mixed the old and the new version"
    during = [r for r in results if r.ended > posting and r.started < posted]
    assert during, "questions were answered while the update ran"
    assert all(r.versions == {"tujuh"} for r in results if r.ended < posting)
    assert all(r.versions == {"sembilan"} for r in results
               if posted + SWITCH_S < r.started and r.ended < deleting)
    assert all(not r.versions for r in results if r.started > deleted + SWITCH_S)
    assert switch < SWITCH_S, f"the workers took {switch:.1f}s to see the change"

    listed = http.get("/api/documents", params={"limit": 5}).json()
    assert listed["total"] == FILLER and listed["documents"][0]["id"] == "cuaca-0"
    # The versions replaced by the upload go once no question can be reading them (the
    # ones the delete left go 15 s after it: not waited for here).
    store = TanyaService(Settings(home=server.home, chroma_url=chroma_server.url, index=INDEX,
                                  embedder="hash:64", reader="off"),
                         embedder=HashEmbedder(64)).store

    def replaced_left() -> list[str]:
        manifest = store.read_manifest()
        assert manifest is not None
        return [u.doc_id for u in manifest.unserved if u.since < deleting - time.monotonic()
                + time.time()]

    deadline = posted + KEEP_UNSERVED_SECONDS + 20
    while replaced_left() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert replaced_left() == []
    manifest = store.read_manifest()
    assert manifest is not None
    waiting = sum(u.chunks for u in manifest.unserved)
    assert store.counts(manifest.generation)["chunks"] == manifest.chunk_count + waiting
    http.close()
