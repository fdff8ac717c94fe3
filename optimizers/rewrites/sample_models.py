"""A MobileNet-style ONNX graph with PRelu activations, as PyTorch exports face and hand models (nn.PReLU(C): one
slope per channel, shape [C, 1, 1]): the model the rewrite tests and benchmarks/selfcheck/rewrites.py measure."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import onnx


def prelu_mobilenet(size: int = 96, widths: tuple[int, ...] = (16, 32, 64, 64, 128), classes: int = 10,
                    seed: int = 0, one_slope: float | None = None) -> onnx.ModelProto:
    """Conv 3x3/2 + PRelu, then per width a depthwise 3x3 + PRelu and a pointwise 1x1 + PRelu, global pooling and a
    Gemm; NCHW float32 input `image` of shape [N, 3, size, size], random but fixed weights, opset 17. `one_slope`:
    every PRelu has that single slope, shape [1] (nn.PReLU() without num_parameters)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    nodes: list[onnx.NodeProto] = []
    inits: list[onnx.TensorProto] = []

    def const(name: str, arr: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(arr.astype(np.float32), name))
        return name

    def conv_prelu(x: str, cin: int, cout: int, k: int, stride: int, group: int, i: int) -> str:
        w = rng.normal(0, (2.0 / (k * k * cin / group)) ** 0.5, (cout, cin // group, k, k))
        nodes.append(helper.make_node("Conv", [x, const(f"w{i}", w), const(f"b{i}", rng.normal(0, 0.1, cout))],
                                      [f"c{i}"], kernel_shape=[k, k], strides=[stride, stride],
                                      pads=[k // 2] * 4, group=group))
        slope = const(f"slope{i}", rng.uniform(0.05, 0.3, (cout, 1, 1)) if one_slope is None
                      else np.full((1,), one_slope))
        nodes.append(helper.make_node("PRelu", [f"c{i}", slope], [f"a{i}"]))
        return f"a{i}"

    x, cin, i = conv_prelu("image", 3, widths[0], 3, 2, 1, 0), widths[0], 1
    for w in widths[1:]:
        x = conv_prelu(x, cin, cin, 3, 1, cin, i)
        x = conv_prelu(x, cin, w, 1, 1, 1, i + 1)
        cin, i = w, i + 2
    nodes.append(helper.make_node("GlobalAveragePool", [x], ["pooled"]))
    nodes.append(helper.make_node("Flatten", ["pooled"], ["flat"]))
    nodes.append(helper.make_node("Gemm", ["flat", const("fc_w", rng.normal(0, 0.1, (classes, cin))),
                                           const("fc_b", np.zeros(classes))], ["logits"], transB=1))
    graph = helper.make_graph(nodes, "prelu_mobilenet",
                              [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, size, size])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", classes])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="edgebench")
    model.ir_version = 8  # readable by every ONNX Runtime the deployment card checks
    onnx.checker.check_model(model)
    return model
