"""Tiny stand-ins for models as third parties export them (issue 25), built with onnx.helper: no downloads.

Shared by the tests and by the reach self-check (edgebench.benchmarks.selfcheck.reach), so both exercise the same
graphs. Each builder writes one .onnx file and returns (path, the `--input-shape` flags a user would pass).
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

OPSET = 17


def _save(nodes: list[Any], name: str, inputs: list[Any], outputs: list[Any], inits: list[Any], path: Path,
          producer: str = "pytorch") -> Path:
    import onnx
    from onnx import helper
    graph = helper.make_graph(nodes, name, inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name=producer)
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def _w(rng: np.random.Generator, name: str, shape: tuple[int, ...], scale: float = 0.3) -> Any:
    from onnx import numpy_helper
    return numpy_helper.from_array(rng.normal(0, scale, shape).astype(np.float32), name)


def _c(name: str, values: Any, dtype: Any = np.int64) -> Any:
    from onnx import numpy_helper
    return numpy_helper.from_array(np.asarray(values, dtype=dtype), name)


def paddle_style(path: Path) -> tuple[Path, list[str]]:
    """Paddle2ONNX's way: x [-1, 3, <empty>, <empty>] (dim_value -1 and dims with neither value nor name), a stale
    value_info, Conv/BatchNorm-free classifier -> softmax [-1, 4]."""
    from onnx import TensorProto, helper
    rng = np.random.default_rng(1)
    nodes = [helper.make_node("Conv", ["x", "conv.w_0", "conv.b_0"], ["c"], name="conv2d_0", pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["r"], name="relu_0"),
             helper.make_node("GlobalAveragePool", ["r"], ["g"], name="pool_0"),
             helper.make_node("Flatten", ["g"], ["f"], name="flatten_0"),
             helper.make_node("Gemm", ["f", "fc.w_0", "fc.b_0"], ["z"], name="fc_0"),
             helper.make_node("Softmax", ["z"], ["softmax_0.tmp_0"], name="softmax_0", axis=-1)]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [-1, 3, None, None])
    dims = x.type.tensor_type.shape.dim
    dims[0].Clear()
    dims[0].dim_value = -1  # as Paddle2ONNX writes it (onnx.helper would refuse a negative value)
    out = helper.make_tensor_value_info("softmax_0.tmp_0", TensorProto.FLOAT, [None, 4])
    stale = helper.make_tensor_value_info("r", TensorProto.FLOAT, [1, 8, 7, 7])  # from an older shape: wrong
    inits = [_w(rng, "conv.w_0", (8, 3, 3, 3)), _w(rng, "conv.b_0", (8,), 0.1), _w(rng, "fc.w_0", (8, 4)),
             _w(rng, "fc.b_0", (4,), 0.1)]
    _save(nodes, "paddle_cls", [x], [out], inits, path, producer="PaddlePaddle")
    import onnx
    model = onnx.load(str(path))
    model.graph.value_info.append(stale)
    onnx.save(model, str(path))
    return path, ["--input-shape", "x=1,3,24,24"]


def _shape_reshape(src: str, shape_of: str, tail: list[int], out: str, tag: str) -> tuple[list[Any], list[Any]]:
    """Reshape `src` to [batch of `shape_of`, *tail], the batch taken from Shape at run time (as exporters write)."""
    from onnx import helper
    return [helper.make_node("Shape", [shape_of], [f"{tag}_shape"], name=f"/{tag}/Shape"),
            helper.make_node("Gather", [f"{tag}_shape", "zero"], [f"{tag}_b"], name=f"/{tag}/Gather", axis=0),
            helper.make_node("Unsqueeze", [f"{tag}_b", "axes0"], [f"{tag}_b1"], name=f"/{tag}/Unsqueeze"),
            helper.make_node("Concat", [f"{tag}_b1", f"{tag}_tail"], [f"{tag}_target"], name=f"/{tag}/Concat", axis=0),
            helper.make_node("Reshape", [src, f"{tag}_target"], [out], name=f"/{tag}/Reshape")], \
        [_c(f"{tag}_tail", tail)]


def yolo_dfl(path: Path) -> tuple[Path, list[str]]:
    """A YOLOv8-style head: Conv -> [b, 64+nc, h, w] flattened to anchors with Shape-computed reshapes, Split into
    box/class, DFL (Reshape [b,4,16,A], Transpose, Softmax, 1x1 Conv with weights 0..15), Concat with Sigmoid scores;
    the output's last dim is a symbolic expression."""
    from onnx import TensorProto, helper
    rng = np.random.default_rng(2)
    nc, anchors = 3, 8 * 8
    nodes: list[Any] = [helper.make_node("Conv", ["images", "head.w", "head.b"], ["feat"], name="/model.22/Conv",
                                         strides=[2, 2], pads=[1, 1, 1, 1])]
    inits = [_w(rng, "head.w", (64 + nc, 3, 3, 3)), _w(rng, "head.b", (64 + nc,), 0.1), _c("zero", 0),
             _c("axes0", [0]), _c("split", [64, nc]),
             _c("dfl.w", np.arange(16, dtype=np.float32).reshape(1, 16, 1, 1), np.float32)]
    more, tails = _shape_reshape("feat", "images", [64 + nc, -1], "flat", "r1")
    nodes += more
    inits += tails
    nodes.append(helper.make_node("Split", ["flat", "split"], ["box", "cls"], name="/model.22/Split", axis=1))
    more, tails = _shape_reshape("box", "box", [4, 16, -1], "box4", "r2")
    nodes += more
    inits += tails
    nodes += [helper.make_node("Transpose", ["box4"], ["boxt"], name="/dfl/Transpose", perm=[0, 2, 1, 3]),
              helper.make_node("Softmax", ["boxt"], ["boxs"], name="/dfl/Softmax", axis=1),
              helper.make_node("Conv", ["boxs", "dfl.w"], ["dfl"], name="/dfl/conv/Conv")]
    more, tails = _shape_reshape("dfl", "dfl", [4, anchors], "dist", "r3")
    nodes += more
    inits += tails
    nodes += [helper.make_node("Sigmoid", ["cls"], ["score"], name="/model.22/Sigmoid"),
              helper.make_node("Concat", ["dist", "score"], ["output0"], name="/model.22/Concat", axis=1)]
    x = helper.make_tensor_value_info("images", TensorProto.FLOAT, ["batch", 3, "height", "width"])
    out = helper.make_tensor_value_info("output0", TensorProto.FLOAT,
                                        ["batch", 4 + nc, "floor(height/2)*floor(width/2)"])
    return _save(nodes, "yolo_dfl", [x], [out], inits, path), ["--input-shape", "images=1,3,16,16"]


def _ln(x: str, out: str, tag: str) -> Any:
    from onnx import helper
    return helper.make_node("LayerNormalization", [x, f"{tag}.g", f"{tag}.b"], [out], name=f"/{tag}/LN",
                            axis=-1, epsilon=1e-12)


def _gemm(x: str, out: str, tag: str, seq: int, n_out: int) -> list[Any]:
    """[1, L, in] -> Reshape [L, in] -> Gemm -> Reshape [1, L, out], as a PyTorch Linear exports at batch 1."""
    from onnx import helper
    return [helper.make_node("Reshape", [x, "shape2d"], [f"{tag}_2d"], name=f"/{tag}/Reshape"),
            helper.make_node("Gemm", [f"{tag}_2d", f"{tag}.w", f"{tag}.b"], [f"{tag}_g"], name=f"/{tag}/Gemm",
                             transB=1),
            helper.make_node("Reshape", [f"{tag}_g", f"shape3d_{n_out}"], [out], name=f"/{tag}/Reshape_1")]


def _gelu_tanh(x: str, out: str) -> list[Any]:
    """0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), written with Pow and Tanh as exporters do."""
    from onnx import helper
    return [helper.make_node("Pow", [x, "three"], ["g_pow"], name="/gelu/Pow"),
            helper.make_node("Mul", ["g_pow", "g_k"], ["g_k3"], name="/gelu/Mul"),
            helper.make_node("Add", [x, "g_k3"], ["g_in"], name="/gelu/Add"),
            helper.make_node("Mul", ["g_in", "g_s"], ["g_ins"], name="/gelu/Mul_1"),
            helper.make_node("Tanh", ["g_ins"], ["g_t"], name="/gelu/Tanh"),
            helper.make_node("Add", ["g_t", "one"], ["g_1t"], name="/gelu/Add_1"),
            helper.make_node("Mul", [x, "g_1t"], ["g_x1t"], name="/gelu/Mul_2"),
            helper.make_node("Mul", ["g_x1t", "half"], [out], name="/gelu/Mul_3")]


def _attention(seq: int, hidden: int, heads: int) -> list[Any]:
    from onnx import helper
    d = hidden // heads
    nodes: list[Any] = []
    for t in ("q", "k", "v"):
        nodes += _gemm("h0", f"{t}3", t, seq, hidden)
        nodes.append(helper.make_node("Reshape", [f"{t}3", "heads4d"], [f"{t}4"], name=f"/{t}/Reshape_2"))
    nodes += [helper.make_node("Transpose", ["q4"], ["qt"], name="/q/Transpose", perm=[0, 2, 1, 3]),
              helper.make_node("Transpose", ["k4"], ["kt"], name="/k/Transpose", perm=[0, 2, 3, 1]),
              helper.make_node("Transpose", ["v4"], ["vt"], name="/v/Transpose", perm=[0, 2, 1, 3]),
              helper.make_node("MatMul", ["qt", "kt"], ["qk"], name="/attn/MatMul"),
              helper.make_node("Div", ["qk", "sqrt_d"], ["qks"], name="/attn/Div"),
              helper.make_node("Add", ["qks", "attention_mask"], ["qkm"], name="/attn/Add"),
              helper.make_node("Softmax", ["qkm"], ["p"], name="/attn/Softmax", axis=-1),
              helper.make_node("MatMul", ["p", "vt"], ["ctx4"], name="/attn/MatMul_1"),
              helper.make_node("Transpose", ["ctx4"], ["ctxt"], name="/attn/Transpose", perm=[0, 2, 1, 3]),
              helper.make_node("Reshape", ["ctxt", f"shape3d_{hidden}"], ["ctx"], name="/attn/Reshape")]
    nodes += _gemm("ctx", "ao", "o", seq, hidden)
    assert d * heads == hidden
    return nodes


def bert_like(path: Path, seq: int = 16, hidden: int = 32, heads: int = 2, vocab: int = 50) -> tuple[Path, list[str]]:
    """One MiniLM-style encoder layer: int64 ids [batch, sequence] -> Gather embedding + positions -> LayerNorm ->
    attention (Gemm Q/K/V, transposed heads, float additive mask [batch,1,1,sequence], Softmax) -> LayerNorm ->
    Gemm, tanh-GELU with Pow, Gemm -> LayerNorm."""
    from onnx import TensorProto, helper
    rng = np.random.default_rng(4)
    nodes: list[Any] = [helper.make_node("Gather", ["emb.w", "input_ids"], ["e"], name="/embeddings/Gather"),
                        helper.make_node("Add", ["e", "pos.w"], ["e1"], name="/embeddings/Add"),
                        _ln("e1", "h0", "ln0")]
    nodes += _attention(seq, hidden, heads)
    nodes += [helper.make_node("Add", ["ao", "h0"], ["r1"], name="/attn/Add_1"), _ln("r1", "h1", "ln1")]
    nodes += _gemm("h1", "f1", "ff1", seq, 4 * hidden) + _gelu_tanh("f1", "f1g") + _gemm("f1g", "f2", "ff2", seq,
                                                                                           hidden)
    nodes += [helper.make_node("Add", ["f2", "h1"], ["r2"], name="/ffn/Add"), _ln("r2", "last_hidden_state", "ln2")]
    inits = [_w(rng, "emb.w", (vocab, hidden), 1.0), _w(rng, "pos.w", (1, seq, hidden), 0.5),
             _c("shape2d", [seq, -1]), _c(f"shape3d_{hidden}", [1, seq, hidden]),
             _c(f"shape3d_{4 * hidden}", [1, seq, 4 * hidden]), _c("heads4d", [1, seq, heads, hidden // heads]),
             _c("sqrt_d", np.sqrt(hidden // heads), np.float32), _c("three", 3.0, np.float32),
             _c("g_k", 0.044715, np.float32), _c("g_s", np.sqrt(2 / np.pi), np.float32),
             _c("one", 1.0, np.float32), _c("half", 0.5, np.float32)]
    for tag in ("ln0", "ln1", "ln2"):
        inits += [_c(f"{tag}.g", 1 + rng.normal(0, 0.1, hidden), np.float32),
                  _c(f"{tag}.b", rng.normal(0, 0.1, hidden), np.float32)]
    for tag, n_in, n_out in (("q", hidden, hidden), ("k", hidden, hidden), ("v", hidden, hidden),
                             ("o", hidden, hidden), ("ff1", hidden, 4 * hidden), ("ff2", 4 * hidden, hidden)):
        inits += [_w(rng, f"{tag}.w", (n_out, n_in), 1 / np.sqrt(n_in)), _w(rng, f"{tag}.b", (n_out,), 0.05)]
    ins = [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"]),
           helper.make_tensor_value_info("attention_mask", TensorProto.FLOAT, ["batch", 1, 1, "sequence"])]
    outs = [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "sequence", hidden])]
    return _save(nodes, "bert_like", ins, outs, inits, path), \
        ["--input-shape", f"input_ids=1,{seq}", "--input-shape", f"attention_mask=1,1,1,{seq}", "--vocab-size",
         str(vocab)]


def constant_weights(path: Path) -> tuple[Path, list[str]]:
    """Conv weights and bias that reach the Conv through Constant and Identity nodes, not as initializers (what
    makes ORT's quantizers say 'Expected ... to be an initializer')."""
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(5)
    w = numpy_helper.from_array(rng.normal(0, 0.3, (6, 3, 3, 3)).astype(np.float32), "w_const")
    b = numpy_helper.from_array(rng.normal(0, 0.1, (6,)).astype(np.float32), "b_const")
    nodes = [helper.make_node("Constant", [], ["conv2d_0.w_0"], name="const_w", value=w),
             helper.make_node("Constant", [], ["b_raw"], name="const_b", value=b),
             helper.make_node("Identity", ["b_raw"], ["conv2d_0.b_0"], name="identity_b"),
             helper.make_node("Conv", ["x", "conv2d_0.w_0", "conv2d_0.b_0"], ["c"], name="conv2d_0", pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["y"], name="relu_0")]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 12, 12])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 6, 12, 12])
    return _save(nodes, "const_weights", [x], [y], [], path, producer="PaddlePaddle"), []


def with_if(path: Path) -> tuple[Path, list[str]]:
    """y = x * 2 if sum(x) > 0 else x - 1: control flow the converter cannot take."""
    from onnx import TensorProto, helper
    then = helper.make_graph([helper.make_node("Mul", ["x", "two"], ["t"], name="then_mul")], "then", [],
                             [helper.make_tensor_value_info("t", TensorProto.FLOAT, [1, 4])])
    other = helper.make_graph([helper.make_node("Sub", ["x", "one"], ["e"], name="else_sub")], "else", [],
                              [helper.make_tensor_value_info("e", TensorProto.FLOAT, [1, 4])])
    nodes = [helper.make_node("ReduceSum", ["x"], ["s"], name="sum", keepdims=0),
             helper.make_node("Greater", ["s", "zero_f"], ["cond"], name="greater"),
             helper.make_node("If", ["cond"], ["y"], name="branch", then_branch=then, else_branch=other)]
    inits = [_c("two", 2.0, np.float32), _c("one", 1.0, np.float32), _c("zero_f", 0.0, np.float32)]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    return _save(nodes, "with_if", [x], [y], inits, path), []


STAND_INS: dict[str, Callable[[Path], tuple[Path, list[str]]]] = {
    "paddle-style": paddle_style, "yolov8-dfl": yolo_dfl, "bert-like": bert_like,
    "constant-weights": constant_weights, "if-branch": with_if,
}
