"""Distillation's loss: the student is pulled toward the teacher's start and end
distributions over the tokens a span may use, mixed with the gold span's loss."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("torch")

import torch

from assistant.reader.distill import distill_loss, labels_key
from assistant.reader.inputs import Window
from assistant.reader.train import Featurized, _loss


def _logits(seed: int, shape: tuple[int, ...] = (2, 6)) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed))


def test_the_loss_is_zero_at_the_teacher_and_grows_away_from_it() -> None:
    start, end = _logits(1), _logits(2)
    allowed = torch.ones(2, 6, dtype=torch.bool)
    teacher = torch.stack([start, end], dim=-1)
    assert float(distill_loss(start, end, teacher, allowed, 2.0)) == pytest.approx(0, abs=1e-6)
    near = float(distill_loss(start, end, teacher + 0.1 * _logits(3, (2, 6, 2)), allowed, 2.0))
    far = float(distill_loss(start, end, teacher + 1.0 * _logits(3, (2, 6, 2)), allowed, 2.0))
    assert 0 < near < far
    # A shift of every logit leaves the distributions, and so the loss, unchanged.
    assert float(distill_loss(start, end, teacher + 3.0, allowed, 2.0)) == pytest.approx(
        0, abs=1e-5)


def test_the_loss_is_kl_from_teacher_to_student_scaled_by_the_temperature_squared() -> None:
    start, end = _logits(1), _logits(2)
    teacher = _logits(3, (2, 6, 2))
    allowed = torch.ones(2, 6, dtype=torch.bool)
    kl = torch.nn.functional.kl_div
    for temperature in (1.0, 2.0, 4.0):
        want = sum(kl(torch.log_softmax(s / temperature, -1),
                      torch.softmax(teacher[..., c] / temperature, -1),
                      reduction="batchmean") for c, s in enumerate((start, end))) / 2
        got = distill_loss(start, end, teacher, allowed, temperature)
        assert float(got) == pytest.approx(float(want) * temperature ** 2, rel=1e-5)


def test_tokens_no_span_may_use_do_not_count() -> None:
    start, end = _logits(1), _logits(2)
    allowed = torch.ones(2, 6, dtype=torch.bool)
    allowed[:, 4:] = False  # say, the question's tokens or padding
    teacher = torch.stack([start, end], dim=-1)
    elsewhere = teacher.clone()
    elsewhere[:, 4:] += 10 * _logits(5, (2, 2, 2))
    assert float(distill_loss(start, end, elsewhere, allowed, 2.0)) == pytest.approx(
        0, abs=1e-6)
    inside = teacher.clone()
    inside[:, :2] += 10 * _logits(5, (2, 2, 2))
    assert float(distill_loss(start, end, inside, allowed, 2.0)) > 0.1


class _Fixed:
    """A stand-in reader that returns the same logits whatever it reads."""

    def __init__(self, start: torch.Tensor, end: torch.Tensor) -> None:
        self.start, self.end = start, end

    def __call__(self, ids: Any, mask: Any) -> tuple[torch.Tensor, torch.Tensor]:
        return self.start, self.end


def test_the_training_loss_mixes_gold_and_teacher_by_the_share() -> None:
    """Windows of two lengths, so the shorter one's teacher logits are padded."""
    long = Window("Bulog", (0, 5, 6, 2), ((-1, -1), (0, 3), (3, 5), (-1, -1)))
    short = Window("Bu", (0, 5, 2), ((-1, -1), (0, 2), (-1, -1)))
    items = [Featurized(long, 1, 2), Featurized(short, 0, 0)]
    start, end = _logits(1, (2, 4)), _logits(2, (2, 4))
    model = _Fixed(start, end)
    mine = [np.stack([start[r].numpy(), end[r].numpy()], axis=-1)[: len(w.ids)]
            for r, w in enumerate((long, short))]
    other = [x + np.random.default_rng(r).normal(0, 2, x.shape).astype(np.float32)
             for r, x in enumerate(mine)]
    gold = float(_loss(model, items))
    assert gold > 0
    assert float(_loss(model, items, mine, 0.0, 2.0)) == pytest.approx(gold)
    # All teacher: the student already gives the teacher's logits, so nothing to learn.
    assert float(_loss(model, items, mine, 1.0, 2.0)) == pytest.approx(0, abs=1e-5)
    soft = float(_loss(model, items, other, 1.0, 2.0))
    assert soft > 0.01
    half = float(_loss(model, items, other, 0.5, 2.0))
    assert half == pytest.approx((gold + soft) / 2, rel=1e-5)


def test_cached_labels_are_keyed_by_windows_teacher_and_base() -> None:
    one = Window("Bulog", (0, 5, 6, 2), ((-1, -1), (0, 3), (3, 5), (-1, -1)))
    two = Window("Bu", (0, 5, 2), ((-1, -1), (0, 2), (-1, -1)))
    key = labels_key([one, two], "teacher", "base")
    assert key == labels_key([one, two], "teacher", "base")
    assert len({key, labels_key([two, one], "teacher", "base"),
                labels_key([one], "teacher", "base"),
                labels_key([one, two], "another", "base"),
                labels_key([one, two], "teacher", "another")}) == 5


def test_a_teacher_trained_on_another_base_is_refused(tmp_path: Path) -> None:
    import json
    import shutil

    from assistant.errors import ConfigError
    from assistant.reader.adapter import ADAPTER_FILE, MANIFEST_FILE, SHIPPED_DIR
    from assistant.reader.convert import MANIFEST
    from assistant.reader.distill import load_teacher

    teacher = tmp_path / "teacher"
    teacher.mkdir()
    shutil.copy(SHIPPED_DIR / ADAPTER_FILE, teacher / ADAPTER_FILE)
    manifest = json.loads((SHIPPED_DIR / MANIFEST_FILE).read_text())
    made_on = manifest["base"]["source_sha256"]
    (teacher / MANIFEST_FILE).write_text(json.dumps(manifest))
    base = tmp_path / "base"
    base.mkdir()
    (base / MANIFEST).write_text(json.dumps({"source_sha256": made_on}))
    assert load_teacher(teacher, base).sha256 == manifest["adapter_sha256"]
    (base / MANIFEST).write_text(json.dumps({"source_sha256": "f" * 64}))
    with pytest.raises(ConfigError, match=f"--teacher {teacher} was trained on another base "
                                          rf"\({made_on[:12]}, this one is ffffffffffff\)"):
        load_teacher(teacher, base)
