"""Rule `transpose`: Transposes that undo each other.

- Transpose(p) then Transpose(q) with q undoing p: both go (consumers read the first one's input).
- Transpose(p), an element-wise Mul/Add/Sub/Div with a constant, then Transpose(q) undoing p: the constant is
  transposed once, offline, and both Transposes go. tf2onnx leaves this sandwich around every Keras PReLU whose alpha
  has one value per pixel and channel (NCHW convolutions, NHWC alpha): 18 Transposes in a 9-PReLU model.
Exact: moving data changes no arithmetic, and an element-wise op computes the same products on permuted operands.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from edgebench.optimizers.rewrites.graph import Graph
from edgebench.optimizers.rewrites.rule import Rule

if TYPE_CHECKING:
    import onnx

ELEMENTWISE = ("Mul", "Add", "Sub", "Div")


def _perm(node: onnx.NodeProto) -> list[int] | None:
    """The permutation of a Transpose (None when it has none: the default reverses the axes of an unknown rank)."""
    return next((list(a.ints) for a in node.attribute if a.name == "perm"), None)


def _undoes(first: onnx.NodeProto, second: onnx.NodeProto) -> bool:
    p, q = _perm(first), _perm(second)
    return p is not None and q is not None and len(p) == len(q) and [p[i] for i in q] == list(range(len(p)))


def _transpose(graph: Graph, tensor: str, reader: onnx.NodeProto) -> onnx.NodeProto | None:
    node = graph.producer(tensor)
    return node if node is not None and node.op_type == "Transpose" and graph.private(tensor, reader) else None


def _rename_input(graph: Graph, old: str, new: str) -> None:
    for node in graph.consumers(old):
        for i, name in enumerate(node.input):
            if name == old:
                node.input[i] = new
    graph.changed()


def _cancel_pairs(graph: Graph) -> int:
    for second in graph.g.node:
        if second.op_type != "Transpose" or graph.is_output(second.output[0]):
            continue
        first = _transpose(graph, second.input[0], second)
        if first is not None and _undoes(first, second):
            out, src = second.output[0], first.input[0]
            graph.replace([first, second], [])
            _rename_input(graph, out, src)
            return 1
    return 0


def _sandwich(graph: Graph, last: onnx.NodeProto) -> tuple[onnx.NodeProto, onnx.NodeProto, int, np.ndarray] | None:
    """(first Transpose, element-wise node, index of its transposed operand, constant) of a sandwich ending at `last`."""
    if last.op_type != "Transpose":
        return None
    op = graph.producer(last.input[0])
    if op is None or op.op_type not in ELEMENTWISE or len(op.input) != 2 or not graph.private(last.input[0], last):
        return None
    for k in (0, 1):
        first = _transpose(graph, op.input[k], op)
        value = graph.constant(op.input[1 - k])
        if first is not None and value is not None and _undoes(first, last) and value.ndim <= len(_perm(first) or []):
            return first, op, k, value
    return None


def _push_through(graph: Graph) -> int:
    from onnx import helper

    for last in graph.g.node:
        found = _sandwich(graph, last)
        if found is None:
            continue
        first, op, k, value = found
        rank = len(_perm(first) or [])
        moved = np.transpose(value.reshape((1,) * (rank - value.ndim) + value.shape), _perm(last))
        c = graph.add_constant(moved, f"{op.name or op.op_type}_const")
        operands = [first.input[0], c] if k == 0 else [c, first.input[0]]
        node = helper.make_node(op.op_type, operands, [last.output[0]], name=graph.fresh(op.name or op.op_type))
        graph.replace([first, op, last], [node])
        return 1
    return 0


def _rewrite(graph: Graph) -> int:
    done = 0
    while (n := _cancel_pairs(graph) or _push_through(graph)):
        done += n
    return done


RULE = Rule("transpose", "Transpose pairs that cancel, also around an element-wise op with a constant",
            ("Transpose",), _rewrite)
