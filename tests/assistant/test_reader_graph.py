"""The serving graph computes what the training model computes: a random adapter in the
training model's naming, merged into the base (``merged_weights``) and written as ONNX
(``build_graph``), gives torch's logits when run the way ``Reader.logits`` runs it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import torch

from assistant.reader.convert import ensure_converted
from assistant.reader.graph import build_graph, quantize
from assistant.reader.inputs import ReaderTokenizer, Window, batch
from assistant.reader.model import (
    AdapterConfig,
    LoRALinear,
    SpanReader,
    load_encoder,
)
from assistant.reader.runtime import Reader, open_session
from assistant.reader.weights import (
    WORD_EMBEDDINGS,
    EmbeddingInputs,
    load_tensors,
    merged_weights,
)

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "index" / "corpus"
TOLERANCE = 1e-3


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_converted(tmp_path_factory.mktemp("reader-cache"))


@pytest.fixture(scope="module")
def windows(model_dir: Path) -> list[Window]:
    """Three windows of different lengths (a full one, a medium one, a short one)."""
    tokenizer = ReaderTokenizer(model_dir / "tokenizer.json")
    article = "\n".join(p.read_text(encoding="utf-8") for p in sorted(CORPUS.glob("*.txt")))
    out = [
        tokenizer.windows("Apa tuntutan Kyiv?", article)[0],
        tokenizer.windows("What does Kyiv demand?", article[:400])[0],
        tokenizer.windows("Siapa?", "Perdana Menteri Inggris Tony Blair berkata.")[0],
    ]
    lengths = [len(w.ids) for w in out]
    assert len(set(lengths)) == 3 and max(lengths) > 150 and min(lengths) < 30, lengths
    return out


@pytest.fixture(scope="module")
def trained(model_dir: Path) -> tuple[Any, dict[str, np.ndarray], float]:
    """The training model with a random adapter, and that adapter as shipped tensors
    (LoRA pairs in float16, as ``tanya reader train`` saves them)."""
    torch.manual_seed(1234)
    config = AdapterConfig(rank=4, dropout=0.0)
    model = SpanReader(load_encoder(model_dir), config)
    generator = torch.Generator().manual_seed(99)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, LoRALinear):
                module.lora_b.copy_(torch.randn(module.lora_b.shape, generator=generator) * 0.02)
        model.head.weight.copy_(torch.randn(model.head.weight.shape, generator=generator))
        model.head.bias.copy_(torch.tensor([0.3, -0.2]))
    state = model.adapter_state()
    assert any(n.endswith(".lora_b") for n in state) and "head.weight" in state
    shipped = {name: (t.half() if name.endswith(("lora_a", "lora_b")) else t.float())
               for name, t in state.items()}
    model.load_adapter({name: t.float() for name, t in shipped.items()})  # same rounding
    model.eval()
    tensors = {name: t.numpy() for name, t in shipped.items()}
    return model, tensors, config.scale


@pytest.fixture(scope="module")
def graphs(model_dir: Path, trained: tuple[Any, dict[str, np.ndarray], float],
           tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    _, tensors, scale = trained
    base = load_tensors(model_dir / "model.safetensors", skip=(WORD_EMBEDDINGS,))
    layers = sum(1 for k in base if k.endswith(".attention.self.query.weight"))
    assert layers == 12
    merged = merged_weights(base, tensors, scale)
    query = "encoder.layer.0.attention.self.query.weight"
    assert float(np.abs(merged[query] - base[query]).max()) > 1e-3, "the merge matters"
    out = tmp_path_factory.mktemp("graphs")
    build_graph(merged, layers, out / "fp32.onnx")
    quantize(out / "fp32.onnx", out / "int8.onnx")
    return {"fp32": out / "fp32.onnx", "int8": out / "int8.onnx"}


def _onnx_logits(model_dir: Path, graph: Path, windows: list[Window]) -> np.ndarray:
    """What ``Reader.logits`` returns, with the given graph (no shipped adapter needed)."""
    reader = Reader.__new__(Reader)
    reader._inputs = EmbeddingInputs(model_dir / "model.safetensors")
    reader._session = open_session(graph)  # as served
    return reader.logits(windows)


def _torch_logits(model: Any, windows: list[Window]) -> np.ndarray:
    ids, mask = batch(windows)
    with torch.inference_mode():
        start, end = model(torch.from_numpy(ids), torch.from_numpy(mask))
    return torch.stack([start, end], dim=-1).numpy()


def _real(logits: np.ndarray, windows: list[Window]) -> np.ndarray:
    """The logits of real (not padding) tokens, flattened to [tokens, 2]."""
    return np.concatenate([logits[row, : len(w.ids)] for row, w in enumerate(windows)])


def test_the_fp32_graph_matches_the_training_model(
        model_dir: Path, trained: tuple[Any, dict[str, np.ndarray], float],
        graphs: dict[str, Path], windows: list[Window]) -> None:
    model, _, _ = trained
    want = _torch_logits(model, windows)
    got = _onnx_logits(model_dir, graphs["fp32"], windows)
    assert got.shape == want.shape == (3, max(len(w.ids) for w in windows), 2)
    diff = np.abs(_real(got, windows) - _real(want, windows))
    assert float(diff.max()) < TOLERANCE, float(diff.max())
    # Alone, each window gives the same logits as in the padded batch.
    for row, w in enumerate(windows):
        alone = _onnx_logits(model_dir, graphs["fp32"], [w])[0]
        assert float(np.abs(alone - got[row, : len(w.ids)]).max()) < TOLERANCE


def test_the_comparison_would_see_a_missing_merge(
        trained: tuple[Any, dict[str, np.ndarray], float], windows: list[Window]) -> None:
    """Without the LoRA deltas the logits move by far more than the tolerance."""
    model, _, _ = trained
    with_lora = _real(_torch_logits(model, windows), windows)
    saved = {}
    with torch.no_grad():
        for name, module in model.named_modules():
            if isinstance(module, LoRALinear):
                saved[name] = module.lora_b.detach().clone()
                module.lora_b.zero_()
    try:
        without = _real(_torch_logits(model, windows), windows)
    finally:
        with torch.no_grad():
            for name, module in model.named_modules():
                if isinstance(module, LoRALinear):
                    module.lora_b.copy_(saved[name])
    assert float(np.abs(with_lora - without).max()) > 50 * TOLERANCE


def test_the_int8_graph_tracks_the_fp32_graph(
        model_dir: Path, graphs: dict[str, Path], windows: list[Window]) -> None:
    fp32 = _real(_onnx_logits(model_dir, graphs["fp32"], windows), windows)
    int8 = _real(_onnx_logits(model_dir, graphs["int8"], windows), windows)
    assert np.isfinite(int8).all()
    assert graphs["int8"].stat().st_size < graphs["fp32"].stat().st_size / 2
    for column in (0, 1):  # start and end logits
        corr = float(np.corrcoef(fp32[:, column], int8[:, column])[0, 1])
        # A sanity bound, not a figure: int8 rounding differs between CPUs.
        assert corr > 0.95, (column, corr)


def test_a_shallower_reader_keeps_its_first_layers_and_its_graph_matches(
        model_dir: Path, windows: list[Window], tmp_path: Path) -> None:
    """``AdapterConfig(layers=N)``: the training model runs the base's first N layers,
    adapts only those, and the N-layer graph ``ensure_graph`` builds for such an adapter
    gives its logits."""
    import json

    import onnx

    from assistant.reader.adapter import Adapter, ReaderUnavailableError
    from assistant.reader.runtime import ensure_graph

    torch.manual_seed(7)
    config = AdapterConfig(rank=4, dropout=0.0, layers=4)
    model = SpanReader(load_encoder(model_dir), config)
    assert len(model.encoder.encoder.layer) == 4
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, LoRALinear):
                module.lora_b.normal_(0.0, 0.02)
    state = model.adapter_state()
    layers_adapted = {int(n.split(".")[3]) for n in state if n.startswith("encoder.encoder")}
    assert layers_adapted == {0, 1, 2, 3}
    model.eval()
    tensors = {n: t.float().numpy() for n, t in state.items()}

    manifest = {"config": {"adapter": config.as_dict()}}
    adapter = Adapter(tensors, manifest, "test-shallow-" + "0" * 51)
    assert adapter.layers == 4
    graph = ensure_graph(tmp_path, model_dir, adapter)
    norms = [n for n in onnx.load(str(graph)).graph.node if n.op_type == "LayerNormalization"]
    assert len(norms) == 1 + 2 * 4  # the embeddings' and two per layer
    base = load_tensors(model_dir / "model.safetensors", skip=(WORD_EMBEDDINGS,))
    build_graph(merged_weights(base, tensors, config.scale), 4, tmp_path / "fp32.onnx")
    want = _real(_torch_logits(model, windows), windows)
    got = _real(_onnx_logits(model_dir, tmp_path / "fp32.onnx", windows), windows)
    assert float(np.abs(got - want).max()) < TOLERANCE
    # A manifest from before the setting means every layer; one that runs more layers
    # than the deltas adapt is refused, not served with the rest unadapted.
    unsaid = Adapter(tensors, json.loads('{"config": {"adapter": {}}}'), "x" * 64)
    (tmp_path / "other").mkdir()
    assert unsaid.layers == 0
    with pytest.raises(ReaderUnavailableError, match="adapts layers up to 3, but its "
                                                     "manifest runs 12"):
        ensure_graph((tmp_path / "other").resolve(), model_dir, unsaid)
    with pytest.raises(ValueError, match="cannot keep 13"):
        SpanReader(load_encoder(model_dir), AdapterConfig(layers=13))


def test_teacher_labels_each_window_as_if_alone_and_keeps_them(
        model_dir: Path, windows: list[Window], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``tanya reader train --teacher``: the teacher's logits per window do not depend on
    what it was batched with (padding), and a resumed run reuses them only for the
    same teacher and windows."""
    from assistant.reader import distill
    from assistant.reader.adapter import SHIPPED_DIR, load_shipped

    logs: list[str] = []
    cache = tmp_path / "teacher-logits.npz"
    labels, sha = distill.cached_teacher_logits(SHIPPED_DIR, model_dir, windows, cache,
                                                logs.append)
    assert sha == load_shipped().sha256
    assert [x.shape for x in labels] == [(len(w.ids), 2) for w in windows]
    model = distill.teacher_model(load_shipped(), model_dir)
    shipped = load_shipped().tensors
    assert sorted(model.adapter_state()) == sorted(shipped)
    for name, tensor in model.adapter_state().items():
        assert np.array_equal(tensor.numpy(), shipped[name].astype(np.float32)), name
    for window, got in zip(windows, labels, strict=True):
        alone = _torch_logits(model, [window])[0]
        assert float(np.abs(alone - got).max()) < TOLERANCE

    def relabel(*_: Any) -> Any:
        raise AssertionError("labelled again")

    monkeypatch.setattr(distill, "teacher_logits", relabel)
    again, _ = distill.cached_teacher_logits(SHIPPED_DIR, model_dir, windows, cache,
                                             logs.append)
    assert all(np.array_equal(a, b) for a, b in zip(labels, again, strict=True))
    assert logs[-1] == f"teacher logits reused from {cache}"
    with pytest.raises(AssertionError, match="labelled again"):
        distill.cached_teacher_logits(SHIPPED_DIR, model_dir, windows[:2], cache, logs.append)
    monkeypatch.undo()
    cache.write_bytes(b"not an npz")  # say, a disk error: labelled again, not a traceback
    relabelled, _ = distill.cached_teacher_logits(SHIPPED_DIR, model_dir, windows, cache,
                                                  logs.append)
    assert f"{cache} is unreadable (ValueError); labelling again" in logs
    assert all(np.abs(a - b).max() < TOLERANCE for a, b in zip(labels, relabelled,
                                                                strict=True))
