"""The shipped adapter matches its manifest (the check CI relies on), and a damaged,
missing or unreadable adapter is refused with a message that names the fix."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from assistant.reader.adapter import (
    ADAPTER_FILE,
    MANIFEST_FILE,
    SHIPPED_DIR,
    ReaderUnavailableError,
    check_shipped,
    load_adapter,
    load_shipped,
)
from assistant.reader.convert import file_sha256

MAX_BYTES = 5 * 1024 * 1024
SHA256 = re.compile(r"[0-9a-f]{64}")


def manifest() -> dict[str, object]:
    data = json.loads((SHIPPED_DIR / MANIFEST_FILE).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A copy of the shipped adapter and manifest to damage."""
    target = tmp_path / "adapter"
    target.mkdir()
    for name in (ADAPTER_FILE, MANIFEST_FILE):
        shutil.copyfile(SHIPPED_DIR / name, target / name)
    return target


def assert_names_the_fix(error: ReaderUnavailableError) -> None:
    message = str(error)
    assert "tanya reader train" in message, message
    assert "TANYA_READER=off" in message, message
    assert error.status == 503


# ------------------------------------------------------------------ the shipped adapter


def test_the_shipped_adapter_matches_its_manifest() -> None:
    adapter = load_adapter(SHIPPED_DIR)
    expected = manifest()["adapter_sha256"]
    assert adapter.sha256 == expected
    assert file_sha256(SHIPPED_DIR / ADAPTER_FILE) == expected
    assert load_shipped().sha256 == expected
    assert check_shipped()["adapter_sha256"] == expected


def test_the_shipped_adapter_is_small() -> None:
    size = (SHIPPED_DIR / ADAPTER_FILE).stat().st_size
    assert 0 < size < MAX_BYTES, f"{size} bytes: the adapter ships inside the package"
    assert check_shipped()["bytes"] == size


def test_the_shipped_adapter_has_lora_pairs_and_the_head() -> None:
    adapter = load_shipped()
    rank = int(adapter.manifest["config"]["adapter"]["rank"])
    assert adapter.scale == pytest.approx(
        float(adapter.manifest["config"]["adapter"]["alpha"]) / rank)
    names = set(adapter.tensors)
    assert {"head.weight", "head.bias"} <= names
    assert adapter.tensors["head.weight"].shape == (2, 384)
    assert adapter.tensors["head.bias"].shape == (2,)
    pairs = [n for n in names if n.endswith(".lora_a")]
    assert pairs, "no LoRA deltas"
    for a_name in pairs:
        b_name = a_name.removesuffix("lora_a") + "lora_b"
        assert b_name in names
        a, b = adapter.tensors[a_name], adapter.tensors[b_name]
        assert a.shape[0] == rank and b.shape[1] == rank
        assert np.isfinite(a).all() and np.isfinite(b).all()
    assert names == {"head.weight", "head.bias", *pairs,
                     *(n.removesuffix("lora_a") + "lora_b" for n in pairs)}
    assert not all(np.all(adapter.tensors[n.removesuffix("lora_a") + "lora_b"] == 0)
                   for n in pairs), "every lora_b is still zero: the adapter is untrained"


def test_the_manifest_records_the_data_hashes() -> None:
    hashes = manifest()["data"]
    assert isinstance(hashes, dict) and hashes, "no data hashes"
    assert {"facqa", "translations"} <= set(hashes), hashes
    assert any(str(k).startswith("questionset:") for k in hashes), hashes
    for name, digest in hashes.items():
        assert SHA256.fullmatch(str(digest)), f"data hash {name!r} is {digest!r}"


def test_the_manifest_records_the_training_config() -> None:
    config = manifest()["config"]
    assert isinstance(config, dict)
    assert {"seed", "epochs", "lr", "adapter"} <= set(config)
    assert {"rank", "alpha"} <= set(config["adapter"])


def test_the_manifest_records_dev_metrics_per_language() -> None:
    dev = manifest()["dev"]
    assert isinstance(dev, dict)
    assert {"id", "en"} <= set(dev), f"dev metrics are not per language: {sorted(dev)}"
    for lang in ("id", "en"):
        assert {"span_em", "span_f1", "auroc"} <= set(dev[lang])


# ------------------------------------------------------------------ damaged copies


def test_an_intact_copy_loads(copy: Path) -> None:
    assert load_adapter(copy).sha256 == manifest()["adapter_sha256"]


def test_a_flipped_byte_is_refused(copy: Path) -> None:
    path = copy / ADAPTER_FILE
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ReaderUnavailableError, match="does not match its manifest") as info:
        load_adapter(copy)
    assert_names_the_fix(info.value)


@pytest.mark.parametrize("missing", [ADAPTER_FILE, MANIFEST_FILE])
def test_a_missing_file_is_refused(copy: Path, missing: str) -> None:
    (copy / missing).unlink()
    with pytest.raises(ReaderUnavailableError, match="missing") as info:
        load_adapter(copy)
    assert_names_the_fix(info.value)


def test_a_missing_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ReaderUnavailableError, match="missing") as info:
        load_adapter(tmp_path / "nowhere")
    assert_names_the_fix(info.value)


@pytest.mark.parametrize("text", [
    "{not json",
    "",
    "[]",
    '{"config": {"adapter": {"rank": 8}}}',  # no adapter_sha256
    '{"adapter_sha256": "00"}',  # no config
    '{"adapter_sha256": "00", "config": {"adapter": null}}',
])
def test_an_unreadable_manifest_is_refused(copy: Path, text: str) -> None:
    (copy / MANIFEST_FILE).write_text(text, encoding="utf-8")
    with pytest.raises(ReaderUnavailableError, match="unreadable") as info:
        load_adapter(copy)
    assert_names_the_fix(info.value)


def test_a_manifest_that_is_not_utf8_is_refused(copy: Path) -> None:
    (copy / MANIFEST_FILE).write_bytes(b"\xff\xfe{\x00")
    with pytest.raises(ReaderUnavailableError, match="unreadable") as info:
        load_adapter(copy)
    assert_names_the_fix(info.value)


def test_a_corrupt_file_that_matches_its_manifest_is_refused(copy: Path) -> None:
    """Hash right (the manifest was rewritten to match), contents not a safetensors file."""
    (copy / ADAPTER_FILE).write_bytes(b"not a safetensors file")
    data = manifest()
    data["adapter_sha256"] = file_sha256(copy / ADAPTER_FILE)
    (copy / MANIFEST_FILE).write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ReaderUnavailableError, match="corrupt") as info:
        load_adapter(copy)
    assert_names_the_fix(info.value)
