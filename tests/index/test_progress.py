"""A long build's progress, recorded in the store: what other processes' status shows."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.api import make_api
from assistant.cli import main
from assistant.documents import DocumentAdmin
from assistant.progress import progress_line
from assistant.service import TanyaService
from index.documents import Document
from index.embedders import HashEmbedder
from index.progress import STALE_AFTER_S, WRITE_EVERY_S, StoreProgress, describe, recorded_progress
from index.store import ChromaIndex, open_client
from tests.support.settings import session_settings


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class _CountingStore:
    """Records every progress write (a store double: only what StoreProgress calls)."""

    def __init__(self) -> None:
        self.writes: list[str] = []

    def write_progress(self, operation: str, payload: str) -> None:
        assert operation == "build"
        self.writes.append(payload)


def test_the_record_gives_rate_and_eta_and_is_written_at_most_once_a_second() -> None:
    clock, store = _Clock(), _CountingStore()
    progress = StoreProgress(store, "build", clock=clock)  # type: ignore[arg-type]
    assert len(store.writes) == 1 and progress.record["state"] == "running"
    clock.now += 0.1
    progress(10, 100)  # the first report is written at once: it gives the total
    assert len(store.writes) == 2 and '"total": 100' in store.writes[-1]
    clock.now += 9.9
    progress(20, 100)
    assert progress.record["rate_per_s"] == 2.0 and progress.record["eta_s"] == 40.0
    writes = len(store.writes)
    for done in range(21, 30):  # quicker than WRITE_EVERY_S: not written each time
        clock.now += WRITE_EVERY_S / 10
        progress(done, 100)
    assert len(store.writes) <= writes + 1
    progress(100, 100)  # the last step is always written
    assert '"done": 100' in store.writes[-1]
    progress.end("finished")
    assert '"state": "finished"' in store.writes[-1] and '"eta_s": null' in store.writes[-1]


def test_a_running_record_that_stopped_reporting_is_stale() -> None:
    record = {"operation": "build", "state": "running", "done": 3, "total": 9,
              "updated_at": 500.0, "rate_per_s": 1.0, "eta_s": 6.0, "pid": 7, "host": "h"}
    assert not describe(record, now=500.0 + STALE_AFTER_S - 1)["stale"]
    stale = describe(record, now=500.0 + STALE_AFTER_S + 1)
    assert stale["stale"] and "stopped reporting" in progress_line(stale)
    finished = describe({**record, "state": "finished"}, now=10**9)
    assert not finished["stale"]
    assert progress_line(finished) == "build finished: 3/9 chunks, 1.0 chunks/s (pid 7 on h)"


def test_a_failed_build_is_recorded_as_failed(tmp_path: Path) -> None:
    store = ChromaIndex(open_client(tmp_path), "news")
    with pytest.raises(RuntimeError), recorded_progress(store, "build") as progress:
        progress(1, 4)
        raise RuntimeError("killed")
    [record] = store.read_progress()
    assert record["state"] == "failed" and record["done"] == 1


def _docs(n: int) -> list[Document]:
    return [Document(f"berita-{i:03d}", f"Berita {i}", "id",
                     f"Pasar ikan {i} ramai sejak pagi. Petugas {i} mencatat kapal.", f"t{i}")
            for i in range(n)]


def test_another_process_status_shows_an_update_under_way_then_finished(
        tanya_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = session_settings(home=tanya_home, embedder="hash:64")
    writer = TanyaService(settings, embedder=HashEmbedder(64))
    writer.build(_docs(2))
    # The update pauses in its third step until the status has been read elsewhere.
    reached, release = threading.Event(), threading.Event()

    def paused(done: int, total: int) -> None:
        if done >= 64 and not reached.is_set():
            reached.set()
            release.wait(30)

    update = threading.Thread(target=DocumentAdmin(writer).add, args=(_docs(200),),
                              kwargs={"progress": paused})
    update.start()
    try:
        assert reached.wait(30)
        # Another service on the same store, as a serving worker would be.
        reader = TanyaService(settings, embedder=HashEmbedder(64))
        during = TestClient(make_api(reader, settings)).get("/api/status").json()
    finally:
        release.set()
        update.join(30)
    build = during["build"]
    assert (build["operation"], build["state"], build["total"]) == ("update", "running", 198)
    assert 0 < build["done"] < 198 and build["rate_per_s"] > 0 and build["eta_s"] > 0
    assert "host" not in build and "pid" not in build  # no host names to API callers
    assert during["documents"] == 2  # the update has not switched yet

    after = TestClient(make_api(reader, settings)).get("/api/status").json()
    assert after["build"]["state"] == "finished" and after["build"]["done"] == 198
    assert after["documents"] == 200 and "store" not in after
    assert main(["index", "status", "--embedder", "hash:64"]) == 0
    assert "last build: update finished: 198/198 chunks" in capsys.readouterr().out


def test_the_status_route_needs_the_asking_key_when_one_is_set(
        hash_service: TanyaService) -> None:
    client = TestClient(make_api(hash_service, hash_service.settings.with_(api_key="k3y")))
    assert client.get("/api/status").status_code == 401
    ok = client.get("/api/status", headers={"Authorization": "Bearer k3y"})
    assert ok.status_code == 200 and ok.json()["build"]["operation"] == "build"
