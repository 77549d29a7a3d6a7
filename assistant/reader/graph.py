"""The serving form of the reader: the encoder with the adapter merged in, as an ONNX
graph quantized to int8, run by onnxruntime (already installed with Chroma).

Why not torch at serve time: importing torch and transformers costs about 350 MB of
resident memory, most of the 400 MB serving budget. onnxruntime costs about 40 MB, and
its int8 kernels read a window in about a third of torch's fp32 time. The word
embeddings (250,037 rows) stay out of the graph: the caller looks up the few rows a
question needs from the memory-mapped float16 table (``assistant.reader.weights``) and
feeds their sum with the position embeddings as the graph's input.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

HIDDEN, HEADS, FFN = 384, 12, 1536
LN_EPS = 1e-12

#: onnxruntime optimisers every session of these graphs leaves out (``inference_session``).
#: The fused SkipLayerNormalization kernel took 8.8 ms of a 45 ms reader run (three
#: windows of 106 tokens; onnxruntime 1.32's profiler) where the Add and LayerNormalization
#: it stands for take about 3 ms. Unfused, the int8 reader's scores differ by rounding
#: only: on 300 real reads, mean |score - fp32 graph's score| was 1.27 fused and 1.25
#: unfused, and the fp32 graph's scores are identical either way. The fp32 encoder (index
#: builds) runs 7% faster unfused, its outputs equal to 2e-6.
DISABLED_OPTIMIZERS = ("SkipLayerNormFusion",)


def inference_session(path: Path, options: Any,
                      disabled: Sequence[str] = DISABLED_OPTIMIZERS) -> Any:
    """An onnxruntime CPU session for one of these graphs, without the slow fusions
    (``disabled=()``: onnxruntime's defaults, for comparison)."""
    import onnxruntime as ort

    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"],
                                disabled_optimizers=list(disabled))


def build_graph(weights: Mapping[str, np.ndarray], layers: int, path: Path,
                head: bool = True) -> None:
    """Write the fp32 graph: ``embedded [B, T, 384]``, ``bias [B, 1, 1, T]`` in,
    ``logits [B, T, 2]`` (start, end) out. ``weights`` are merged, in transformers'
    names, plus ``head.weight`` / ``head.bias``. Without ``head`` the output is the last
    layer's ``hidden [B, T, 384]`` (the encoder alone, for embedding passages)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes: list[onnx.NodeProto] = []
    inits: list[onnx.TensorProto] = []

    def const(name: str, value: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(op: str, inputs: list[str], output: str, **attrs: Any) -> str:
        nodes.append(helper.make_node(op, inputs, [output], **attrs))
        return output

    def linear(x: str, prefix: str, out: str) -> str:
        w = const(f"{prefix}.wt", weights[f"{prefix}.weight"].T.astype(np.float32))
        b = const(f"{prefix}.b", weights[f"{prefix}.bias"].astype(np.float32))
        return node("Add", [node("MatMul", [x, w], f"{out}.mm"), b], out)

    def norm(x: str, prefix: str, out: str) -> str:
        g = const(f"{prefix}.g", weights[f"{prefix}.weight"].astype(np.float32))
        b = const(f"{prefix}.beta", weights[f"{prefix}.bias"].astype(np.float32))
        return node("LayerNormalization", [x, g, b], out, axis=-1, epsilon=LN_EPS)

    head_dim = HIDDEN // HEADS
    split_shape = const("split_shape", np.array([0, 0, HEADS, head_dim], dtype=np.int64))
    merge_shape = const("merge_shape", np.array([0, 0, HIDDEN], dtype=np.int64))
    scale = const("scale", np.array(1 / math.sqrt(head_dim), dtype=np.float32))
    half = const("half", np.array(0.5, dtype=np.float32))
    one = const("one", np.array(1.0, dtype=np.float32))
    root2 = const("root2", np.array(math.sqrt(2.0), dtype=np.float32))

    x = norm("embedded", "embeddings.LayerNorm", "h0")
    for i in range(layers):
        p = f"encoder.layer.{i}"
        heads = {}
        for part in ("query", "key", "value"):
            flat = linear(x, f"{p}.attention.self.{part}", f"l{i}.{part}")
            split = node("Reshape", [flat, split_shape], f"l{i}.{part}.split")
            perm = [0, 2, 3, 1] if part == "key" else [0, 2, 1, 3]
            heads[part] = node("Transpose", [split], f"l{i}.{part}.t", perm=perm)
        scores = node("MatMul", [heads["query"], heads["key"]], f"l{i}.scores")
        scaled = node("Add", [node("Mul", [scores, scale], f"l{i}.scaled"), "bias"],
                      f"l{i}.masked")
        probs = node("Softmax", [scaled], f"l{i}.probs", axis=-1)
        context = node("MatMul", [probs, heads["value"]], f"l{i}.context")
        merged = node("Reshape", [node("Transpose", [context], f"l{i}.context.t",
                                       perm=[0, 2, 1, 3]), merge_shape], f"l{i}.merged")
        attended = linear(merged, f"{p}.attention.output.dense", f"l{i}.attn")
        x = norm(node("Add", [attended, x], f"l{i}.res1"), f"{p}.attention.output.LayerNorm",
                 f"l{i}.norm1")
        inner = linear(x, f"{p}.intermediate.dense", f"l{i}.ffn_in")
        # Exact GELU, as e5 was trained: x * 0.5 * (1 + erf(x / sqrt 2)).
        erf = node("Erf", [node("Div", [inner, root2], f"l{i}.div")], f"l{i}.erf")
        gelu = node("Mul", [node("Mul", [inner, half], f"l{i}.halfx"),
                            node("Add", [erf, one], f"l{i}.erf1")], f"l{i}.gelu")
        outer = linear(gelu, f"{p}.output.dense", f"l{i}.ffn_out")
        last = f"h{i + 1}" if head or i < layers - 1 else "hidden"
        x = norm(node("Add", [outer, x], f"l{i}.res2"), f"{p}.output.LayerNorm", last)
    if head:
        linear(x, "head", "logits")
    output = (helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["B", "T", 2]) if head
              else helper.make_tensor_value_info("hidden", TensorProto.FLOAT,
                                                 ["B", "T", HIDDEN]))
    graph = helper.make_graph(
        nodes, "tanya-reader" if head else "tanya-encoder",
        [helper.make_tensor_value_info("embedded", TensorProto.FLOAT, ["B", "T", HIDDEN]),
         helper.make_tensor_value_info("bias", TensorProto.FLOAT, ["B", 1, 1, "T"])],
        [output], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="tanya")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def quantize(source: Path, target: Path) -> None:
    """Dynamic int8 quantization of the graph's matrix products (weights int8, per
    channel; activations quantized per call)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # It logs advice ("consider pre-processing") on the root logger: not for users.
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8,
                         per_channel=True, op_types_to_quantize=["MatMul"])
    finally:
        root.setLevel(level)
