"""TANYA_CALIBRATION: a deployment's own calibration over the shipped one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant import calibration
from assistant.errors import ConfigError


@pytest.fixture(autouse=True)
def fresh_reads() -> Iterator[None]:
    calibration.clear_cache()
    yield
    calibration.clear_cache()


def shipped() -> dict[str, dict[str, object]]:
    return json.loads(calibration.CALIBRATION_PATH.read_text(encoding="utf-8"))


def test_own_entries_replace_the_shipped_ones_of_their_key(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reader = shipped()["reader"]
    own = tmp_path / "ours.json"
    own.write_text(json.dumps({"reader": {**reader, "thresholds": {"en": 9.5, "id": 8.5}}}))
    monkeypatch.setenv("TANYA_CALIBRATION", str(own))
    sha, embedder = str(reader["adapter_sha256"]), str(reader["embedder"])
    assert calibration.reader_threshold(sha, embedder, "en") == 9.5
    assert calibration.reader_threshold(sha, embedder, "id") == 8.5
    # what the file does not hold stays the shipped one
    assert calibration.load_calibration()["e5-small-q4"] == shipped()["e5-small-q4"]
    monkeypatch.delenv("TANYA_CALIBRATION")
    assert calibration.reader_threshold(sha, embedder, "en") == reader["thresholds"]["en"]


def test_a_missing_file_reads_as_the_shipped_one_and_a_corrupt_one_is_an_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANYA_CALIBRATION", str(tmp_path / "not-yet.json"))
    assert calibration.load_calibration() == shipped()
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    monkeypatch.setenv("TANYA_CALIBRATION", str(broken))
    with pytest.raises(ConfigError, match=r"cannot be read .* or unset TANYA_CALIBRATION"):
        calibration.load_calibration()


def test_calibrating_writes_to_tanya_calibration_and_leaves_the_shipped_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import eval.calibrate_reader as calibrate_reader_module
    from assistant.cli import main

    before = calibration.CALIBRATION_PATH.read_bytes()
    entry = {**shipped()["reader"], "thresholds": {"en": 7.0, "id": 6.0}, "threshold": 6.0,
             "sets": {}}
    monkeypatch.setattr(calibrate_reader_module, "calibrate_reader", lambda *_, **__: entry)
    own = tmp_path / "ours.json"
    monkeypatch.setenv("TANYA_CALIBRATION", str(own))
    assert main(["eval", "calibrate-reader", "offtopic", "--embedder", "hash:64"]) == 0
    assert f"to {own}" in capsys.readouterr().err
    assert json.loads(own.read_text())["reader"]["thresholds"] == {"en": 7.0, "id": 6.0}
    assert calibration.CALIBRATION_PATH.read_bytes() == before
    assert calibration.load_calibration()["reader"]["thresholds"] == {"en": 7.0, "id": 6.0}
