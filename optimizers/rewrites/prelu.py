"""Rule `prelu`: PRelu with a constant slope -> Max(x, slope * x) (or Relu(x) + slope * Min(x, 0)).

ONNX Runtime's PRelu kernel is slow on x86: it takes most of a MobileNet-style model's compute. Measured on a
MobileNet-style PRelu model (benchmarks/selfcheck/rewrites.py, docs/PERFORMANCE.md), Max(x, slope * x) was the
fastest exact form: two vectorised element-wise kernels. It equals PRelu bit for bit when every slope is in
[-inf, 1] and non-zero: for x >= 0, slope * x <= x; for x < 0, slope * x >= x, and the product is the very one PRelu
computes. A slope of 0 would turn +inf into Max(inf, 0 * inf = NaN), and a slope above 1 would pick the wrong
branch, so those graphs get Relu(x) + slope * Min(x, 0), also bit-identical (the added term is an exact zero on the
other branch).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from edgebench.optimizers.rewrites.graph import Graph
from edgebench.optimizers.rewrites.rule import Rule

if TYPE_CHECKING:
    import onnx


def max_form_exact(slope: np.ndarray) -> bool:
    return bool(np.all(slope <= 1) and np.all(slope != 0) and not np.any(np.isnan(slope)))


def prelu_nodes(graph: Graph, x: str, slope: np.ndarray, out: str, hint: str) -> list[onnx.NodeProto]:
    """Nodes computing PRelu(x, slope) into `out` in the fastest exact form for this slope."""
    from onnx import helper

    s = graph.add_constant(slope, f"{hint}_slope")
    scaled = graph.fresh(f"{hint}_scaled")
    if max_form_exact(slope):
        return [helper.make_node("Mul", [x, s], [scaled], name=graph.fresh(f"{hint}_mul")),
                helper.make_node("Max", [x, scaled], [out], name=graph.fresh(f"{hint}_max"))]
    zero = graph.add_constant(np.zeros((), slope.dtype), f"{hint}_zero")
    pos, neg = graph.fresh(f"{hint}_pos"), graph.fresh(f"{hint}_neg")
    return [helper.make_node("Relu", [x], [pos], name=graph.fresh(f"{hint}_relu")),
            helper.make_node("Min", [x, zero], [neg], name=graph.fresh(f"{hint}_min")),
            helper.make_node("Mul", [neg, s], [scaled], name=graph.fresh(f"{hint}_mul")),
            helper.make_node("Add", [pos, scaled], [out], name=graph.fresh(f"{hint}_add"))]


def _rewrite_prelu(graph: Graph) -> int:
    done = 0
    while True:
        match = next(((n, s) for n in graph.g.node if n.op_type == "PRelu" and n.domain in ("", "ai.onnx")
                      and (s := graph.constant(n.input[1])) is not None and s.dtype.kind == "f"), None)
        if match is None:
            return done
        node, slope = match
        graph.replace([node], prelu_nodes(graph, node.input[0], slope, node.output[0], node.name or "prelu"))
        done += 1


def _uniform_slope(graph: Graph, node: onnx.NodeProto) -> float | None:
    """The one slope value of a PRelu whose constant slope is the same everywhere (PyTorch's nn.PReLU() default)."""
    if node.op_type != "PRelu" or node.domain not in ("", "ai.onnx"):
        return None
    slope = graph.constant(node.input[1])
    if slope is None or slope.dtype.kind != "f" or slope.size == 0 or not np.all(slope == slope.flat[0]):
        return None
    return float(slope.flat[0])


def _rewrite_leaky(graph: Graph) -> int:
    from onnx import helper

    done = 0
    while (found := next(((n, a) for n in graph.g.node if (a := _uniform_slope(graph, n)) is not None), None)):
        node, alpha = found
        leaky = helper.make_node("LeakyRelu", [node.input[0]], [node.output[0]], alpha=alpha,
                                 name=graph.fresh(node.name or "leaky_relu"))
        graph.replace([node], [leaky])
        done += 1
    return done


# Before `prelu`: LeakyRelu fuses into the Conv before it (FusedConv), faster again than Max(x, slope*x) (README),
# but ORT's LeakyRelu kernel rounds differently from PRelu (about 1e-7 relative), so this rule is not bit-identical;
# when its proof fails, it is dropped and `prelu` rewrites the same nodes exactly.
RULE_LEAKY = Rule("prelu-leaky", "PRelu with one constant slope for all channels -> LeakyRelu (fused into a Conv)",
                  ("PRelu",), _rewrite_leaky)

RULE = Rule("prelu", "PRelu with a constant slope -> Max(x, slope*x) (Relu/Min form if a slope is 0 or > 1)",
            ("PRelu",), _rewrite_prelu)
