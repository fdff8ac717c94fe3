"""Each rewrite rule on a minimal onnx.helper graph: it fires, the outputs equal the source's on random and edge
inputs (negative, zero, -0, large, infinite) in ONNX Runtime, and a graph without the pattern comes out unchanged."""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgebench.optimizers.rewrites.graph import Graph
from edgebench.optimizers.rewrites.rules import RULES

EDGES = np.array([0.0, -0.0, 1.0, -1.0, 1e-30, -1e-30, 3e38, -3e38, np.inf, -np.inf, 5.99, 6.0, 6.01, -7.0],
                 np.float32)


def model(nodes, inits=(), shape=(2, 4, 3, 3), extra_inputs=()):
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape)),
                                            *extra_inputs],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["a", "b", "c", "d"])],
                              [numpy_helper.from_array(np.asarray(v, np.float32), k) for k, v in inits])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m


def run(m, x, **extra):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.log_severity_level = 3
    sess = ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])
    return sess.run(None, {"x": x, **extra})[0]


def inputs(shape=(2, 4, 3, 3)):
    """Random values, and the edge values tiled over the whole tensor."""
    rnd = np.random.default_rng(0).standard_normal(shape).astype(np.float32) * 4
    edge = np.resize(EDGES, int(np.prod(shape))).reshape(shape)
    return [rnd, edge]


def fire(rule, m):
    out = onnx.ModelProto()
    out.CopyFrom(m)
    count = RULES[rule].fire(Graph(out))
    onnx.checker.check_model(out)
    assert all(n.domain in ("", "ai.onnx") for n in out.graph.node)  # standard ONNX only: the card reads it
    return count, out


def assert_same(a, b, shape=(2, 4, 3, 3), **extra):
    for x in inputs(shape):
        np.testing.assert_array_equal(run(a, x, **extra), run(b, x, **extra))  # bit-identical, NaN where NaN


def ops(m):
    return [n.op_type for n in m.graph.node]


# --- prelu ----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("slope, form", [
    (np.array([0.1, 0.25, 1.0, -0.5], np.float32).reshape(4, 1, 1), ["Mul", "Max"]),
    (np.array([0.1, 2.0, 0.0, 0.3], np.float32).reshape(4, 1, 1), ["Relu", "Min", "Mul", "Add"]),  # > 1 and 0
])
def test_prelu_constant_slope(slope, form):
    src = model([helper.make_node("PRelu", ["x", "s"], ["y"])], [("s", slope)])
    count, out = fire("prelu", src)
    assert count == 1 and ops(out) == form
    assert_same(src, out)


def test_prelu_with_a_slope_fed_at_run_time_is_left_alone():
    slope_in = helper.make_tensor_value_info("s", TensorProto.FLOAT, [4, 1, 1])
    src = model([helper.make_node("PRelu", ["x", "s"], ["y"])], extra_inputs=[slope_in])
    count, out = fire("prelu", src)
    assert count == 0 and out == src
    # an initializer that is also a graph input may be overridden by the caller: not a constant either
    src2 = model([helper.make_node("PRelu", ["x", "s"], ["y"])], [("s", np.full((4, 1, 1), 0.2))],
                 extra_inputs=[slope_in])
    assert fire("prelu", src2) == (0, src2)


# --- keras-prelu ----------------------------------------------------------------------------------------------------

def keras_prelu(neg_input="x", alpha=0.2):
    return model([helper.make_node("Relu", ["x"], ["pos"]), helper.make_node("Neg", [neg_input], ["n"]),
                  helper.make_node("Relu", ["n"], ["r"]), helper.make_node("Mul", ["r", "c"], ["m"]),
                  helper.make_node("Add", ["pos", "m"], ["y"])],
                 [("c", -np.full((4, 1, 1), alpha)), ("other", np.ones((2, 4, 3, 3)))])


@pytest.mark.parametrize("alpha, form", [(0.2, ["Mul", "Max"]), (1.5, ["Relu", "Min", "Mul", "Add"])])
def test_keras_prelu(alpha, form):
    src = keras_prelu(alpha=alpha)
    count, out = fire("keras-prelu", src)
    assert count == 1 and ops(out) == form
    assert_same(src, out)


def test_keras_prelu_needs_the_same_input_on_both_branches():
    src = keras_prelu(neg_input="other")  # Relu(x) + c * Relu(-other): not a PReLU
    assert fire("keras-prelu", src) == (0, src)


# --- transpose ------------------------------------------------------------------------------------------------------

def test_transpose_pair_cancels():
    src = model([helper.make_node("Transpose", ["x"], ["t"], perm=[0, 2, 3, 1]),
                 helper.make_node("Transpose", ["t"], ["u"], perm=[0, 3, 1, 2]), helper.make_node("Relu", ["u"], ["y"])])
    count, out = fire("transpose", src)
    assert count == 1 and ops(out) == ["Relu"]
    assert_same(src, out)


@pytest.mark.parametrize("op, first", [("Mul", True), ("Sub", False), ("Div", True)])
def test_transpose_sandwich_around_an_elementwise_constant(op, first):
    const = np.random.default_rng(2).uniform(0.5, 2, (3, 3, 4)).astype(np.float32)  # NHWC, as Keras keeps alpha
    operands = ["t", "c"] if first else ["c", "t"]
    src = model([helper.make_node("Transpose", ["x"], ["t"], perm=[0, 2, 3, 1]),
                 helper.make_node(op, operands, ["m"]),
                 helper.make_node("Transpose", ["m"], ["y"], perm=[0, 3, 1, 2])], [("c", const)])
    count, out = fire("transpose", src)
    assert count == 1 and ops(out) == [op]
    assert_same(src, out)


def test_transposes_that_do_not_cancel_stay():
    src = model([helper.make_node("Transpose", ["x"], ["t"], perm=[0, 2, 3, 1]),
                 helper.make_node("Transpose", ["t"], ["y"], perm=[0, 2, 3, 1])])
    assert fire("transpose", src) == (0, src)


# --- clip -----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("nodes", [
    [helper.make_node("Max", ["x", "lo"], ["a"]), helper.make_node("Min", ["a", "hi"], ["y"])],
    [helper.make_node("Min", ["hi", "x"], ["a"]), helper.make_node("Max", ["a", "lo"], ["y"])],
    [helper.make_node("Relu", ["x"], ["a"]), helper.make_node("Min", ["a", "hi"], ["y"])],
])
def test_relu6_forms_become_one_clip(nodes):
    src = model(nodes, [("lo", np.float32(0)), ("hi", np.float32(6))])
    count, out = fire("clip", src)
    assert count == 1 and ops(out) == ["Clip"]
    assert_same(src, out)


def test_clip_needs_scalar_bounds_in_order():
    crossed = model([helper.make_node("Max", ["x", "lo"], ["a"]), helper.make_node("Min", ["a", "hi"], ["y"])],
                    [("lo", np.float32(6)), ("hi", np.float32(0))])  # Min(Max(x, 6), 0) is 0, not Clip(x, 6, 0)
    assert fire("clip", crossed) == (0, crossed)
    per_channel = model([helper.make_node("Max", ["x", "lo"], ["a"]), helper.make_node("Min", ["a", "hi"], ["y"])],
                        [("lo", np.zeros((4, 1, 1))), ("hi", np.float32(6))])
    assert fire("clip", per_channel) == (0, per_channel)


def test_every_rule_leaves_a_graph_without_its_pattern_unchanged():
    src = model([helper.make_node("Conv", ["x", "w"], ["c"], kernel_shape=[1, 1]), helper.make_node("Relu", ["c"], ["y"])],
                [("w", np.ones((4, 4, 1, 1)))])
    for name in RULES:
        count, out = fire(name, src)
        assert count == 0 and out.SerializeToString() == src.SerializeToString(), name


@pytest.mark.parametrize("shape", [(1,), (1, 1, 1), (4, 1, 1)])
def test_prelu_with_one_slope_becomes_leaky_relu(shape):
    src = model([helper.make_node("PRelu", ["x", "s"], ["y"])], [("s", np.full(shape, 0.2))])
    count, out = fire("prelu-leaky", src)
    assert count == 1 and ops(out) == ["LeakyRelu"]
    for x in inputs():  # ORT's LeakyRelu rounds its own way: equal within 1e-6, the proof's bound, not bit for bit
        np.testing.assert_allclose(run(out, x), run(src, x), rtol=1e-6, atol=0)


def test_prelu_with_per_channel_slopes_is_not_leaky_relu():
    src = model([helper.make_node("PRelu", ["x", "s"], ["y"])], [("s", np.array([0.1, 0.2, 0.2, 0.2]).reshape(4, 1, 1))])
    assert fire("prelu-leaky", src) == (0, src)
