"""Rule `keras-prelu`: the decomposed PReLU that tf2onnx writes for a Keras/TensorFlow PReLU layer,
Add(Relu(x), Mul(Relu(Neg(x)), c)) with a constant c = -alpha, -> the `prelu` rule's fast form with slope -c.

Five element-wise kernels become two. Exact: for x < 0 the source computes 0 + c * (-x) = (-c) * x bit for bit (the
signs cancel exactly), for x >= 0 it computes x + c * 0 = x; both are what PRelu gives. When the Keras alpha has one
value per pixel and channel, tf2onnx puts Transposes around the Mul: the `transpose` rule removes them first.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from edgebench.optimizers.rewrites.graph import Graph
from edgebench.optimizers.rewrites.prelu import prelu_nodes
from edgebench.optimizers.rewrites.rule import Rule

if TYPE_CHECKING:
    import onnx


def _of(graph: Graph, tensor: str, op: str, reader: onnx.NodeProto) -> onnx.NodeProto | None:
    """The `op` node producing `tensor`, when `reader` is its only consumer."""
    node = graph.producer(tensor)
    return node if node is not None and node.op_type == op and graph.private(tensor, reader) else None


def _match(graph: Graph, add: onnx.NodeProto) -> tuple[list[onnx.NodeProto], str, np.ndarray] | None:
    """(nodes to replace, x, slope) when `add` ends the pattern."""
    if add.op_type != "Add" or len(add.input) != 2:
        return None
    for a, b in (add.input, add.input[::-1]):
        relu, mul = _of(graph, a, "Relu", add), _of(graph, b, "Mul", add)
        if relu is None or mul is None:
            continue
        for r, c in (mul.input, mul.input[::-1]):
            value = graph.constant(c)
            relu2 = _of(graph, r, "Relu", mul)
            neg = _of(graph, relu2.input[0], "Neg", relu2) if relu2 is not None else None
            if (value is not None and value.dtype.kind == "f" and relu2 is not None and neg is not None
                    and neg.input[0] == relu.input[0]):
                return [relu, neg, relu2, mul, add], relu.input[0], -value
    return None


def _rewrite(graph: Graph) -> int:
    done = 0
    while True:
        found = next((m for n in graph.g.node if (m := _match(graph, n)) is not None), None)
        if found is None:
            return done
        nodes, x, slope = found
        add = nodes[-1]
        graph.replace(nodes, prelu_nodes(graph, x, slope, add.output[0], add.name or "keras_prelu"))
        done += 1


RULE = Rule("keras-prelu", "Relu(x) + c*Relu(-x) (Keras PReLU via tf2onnx) -> Max(x, -c*x)",
            ("Neg", "Relu", "Mul", "Add"), _rewrite)
