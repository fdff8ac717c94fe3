"""Rule `clip`: Min(Max(x, lo), hi), Max(Min(x, hi), lo) and Min(Relu(x), hi) with scalar constants lo <= hi
-> Clip(x, lo, hi).

ReLU6 and hard-sigmoid/hard-swish blocks written with tf.minimum/tf.maximum (or torch.min/max) reach ONNX as two
element-wise kernels that ONNX Runtime cannot fuse into the Conv before them; Clip is one kernel, and ORT fuses a Conv
followed by Clip into a single FusedConv. Exact: Clip is defined as min(max(x, lo), hi), which for lo <= hi is also
max(min(x, hi), lo); Relu(x) is max(x, 0).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from edgebench.optimizers.rewrites.graph import Graph
from edgebench.optimizers.rewrites.rule import Rule

if TYPE_CHECKING:
    import onnx

INNER = {"Min": "Max", "Max": "Min"}


def _scalar(graph: Graph, node: onnx.NodeProto) -> tuple[str, np.ndarray] | None:
    """(the other operand, the scalar constant) of a two-input Min/Max with one scalar constant operand."""
    if len(node.input) != 2:
        return None
    for a, b in (node.input, node.input[::-1]):
        value = graph.constant(b)
        if value is not None and value.size == 1 and value.ndim == 0 and value.dtype.kind == "f":
            return a, value
    return None


def _match(graph: Graph, outer: onnx.NodeProto) -> tuple[list[onnx.NodeProto], str, np.ndarray, np.ndarray] | None:
    """(nodes, x, lo, hi) of a clip pattern ending at `outer`."""
    if outer.op_type not in INNER:
        return None
    top = _scalar(graph, outer)
    inner = graph.producer(top[0]) if top else None
    if top is None or inner is None or not graph.private(top[0], outer):
        return None
    if outer.op_type == "Min" and inner.op_type == "Relu":
        x, lo, hi = inner.input[0], np.zeros((), top[1].dtype), top[1]
    elif inner.op_type == INNER[outer.op_type] and (low := _scalar(graph, inner)) is not None:
        x, pair = low[0], (low[1], top[1]) if outer.op_type == "Min" else (top[1], low[1])
        lo, hi = pair
    else:
        return None
    return ([inner, outer], x, lo, hi) if lo.dtype == hi.dtype and lo <= hi else None


def _rewrite(graph: Graph) -> int:
    from onnx import helper

    done = 0
    while (found := next((m for n in graph.g.node if (m := _match(graph, n)) is not None), None)) is not None:
        nodes, x, lo, hi = found
        name = nodes[-1].name or "clip"
        clip = helper.make_node("Clip", [x, graph.add_constant(lo, f"{name}_lo"), graph.add_constant(hi, f"{name}_hi")],
                                [nodes[-1].output[0]], name=graph.fresh(name))
        graph.replace(nodes, [clip])
        done += 1
    return done


RULE = Rule("clip", "Min/Max (or Relu then Min) with scalar bounds -> one Clip, which ORT fuses into a Conv",
            ("Min", "Max"), _rewrite)
