"""Stand-in ONNX models whose full int8 breaks the accuracy budget because of a few layers, built with onnx.helper
(fixed seeds, no download), each with data shaped like what breaks published models:

- cnn: a depth channel in millimetres beside RGB in [0, 1] (the first convolution's input range is the depth's, so
  int8 erases the colours), and a class head with one logit biased far below the others (the output's range is that
  logit's, so int8 ties the rest);
- detector: an anchor-score head whose background prior puts half the logits near -40 while the decisions sit near
  0 (the score tensor's int8 step is coarser than the margin of many anchors), beside a box head;
- encoder: a one-block transformer encoder whose input embedding has an outlier dimension (the LayerNorm and MatMul
  inputs' int8 range is the outlier's).
The tests and benchmarks/selfcheck/mixed.py use the same files.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

OPSET = 17
SAMPLES = 64
SIDE = 64  # big enough that fp32 takes milliseconds: the fixed cost of a call does not hide int8's gain


def _save(nodes: list[Any], inputs: list[Any], outputs: list[Any], inits: dict[str, Any], path: Path) -> Path:
    import onnx
    from onnx import helper, numpy_helper
    graph = helper.make_graph(nodes, path.stem, inputs, outputs,
                              [numpy_helper.from_array(v.astype(v.dtype), k) for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def cnn(folder: Path) -> tuple[Path, Path, dict[str, str]]:
    """x [N,4,64,64] -> Conv -> Relu -> Conv/2 -> Relu -> Conv -> Relu -> GlobalAveragePool -> Flatten -> Gemm:
    logits [N,10]. The middle convolutions carry ~90% of the work (what int8 speeds up)."""
    from onnx import TensorProto, helper
    rng = np.random.default_rng(1)
    w1 = rng.normal(0, 0.4, (32, 4, 3, 3)).astype(np.float32)
    w1[:, 3] *= 1e-3  # depth in mm contributes like a colour channel does
    inits = {"w1": w1, "b1": np.zeros(32, np.float32), "w2": rng.normal(0, 0.1, (64, 32, 3, 3)).astype(np.float32),
             "b2": np.zeros(64, np.float32), "w4": rng.normal(0, 0.06, (64, 64, 3, 3)).astype(np.float32),
             "b4": np.zeros(64, np.float32), "w3": rng.normal(0, 0.6, (64, 10)).astype(np.float32),
             "b3": np.array([0] * 9 + [-1000], np.float32)}
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], "conv_first", pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c1"], ["r1"], "relu1"),
             helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], "conv2", pads=[1, 1, 1, 1], strides=[2, 2]),
             helper.make_node("Relu", ["c2"], ["r2"], "relu2"),
             helper.make_node("Conv", ["r2", "w4", "b4"], ["c3"], "conv3", pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c3"], ["r3"], "relu3"),
             helper.make_node("GlobalAveragePool", ["r3"], ["g"], "gap"),
             helper.make_node("Flatten", ["g"], ["f"], "flatten"),
             helper.make_node("Gemm", ["f", "w3", "b3"], ["logits"], "classifier")]
    path = _save(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4, SIDE, SIDE])],
                 [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])], inits, folder / "cnn.onnx")
    x = rng.uniform(0, 1, (SAMPLES, 4, SIDE, SIDE)).astype(np.float32)
    x[:, 3] *= 1000.0
    return path, _npz(folder / "cnn.npz", x=x), {"logits": "class-scores"}


def detector(folder: Path) -> tuple[Path, Path, dict[str, str]]:
    """image [N,3,128,128] -> two strided Conv+Relu and a Conv+Relu -> box head (Conv, x640) and score head (Conv +
    prior, Sigmoid) over 32x32 anchors."""
    from onnx import TensorProto, helper
    rng = np.random.default_rng(2)
    a = SIDE // 2  # anchors per side
    prior = np.where(rng.uniform(size=(1, 1, a, a)) < 0.5, -40.0, 0.0).astype(np.float32)
    inits = {"w1": rng.normal(0, 0.5, (32, 3, 3, 3)).astype(np.float32), "w2": rng.normal(0, 0.1, (64, 32, 3, 3))
             .astype(np.float32), "w3": rng.normal(0, 0.06, (64, 64, 3, 3)).astype(np.float32),
             "wb": rng.normal(0, 0.3, (4, 64, 1, 1)).astype(np.float32),
             "ws": rng.normal(0, 0.075, (1, 64, 1, 1)).astype(np.float32), "prior": prior,
             "bias_s": np.array([-1.0], np.float32),  # centres the score logits on 0 (std ~0.3 on the stand-in's data)
             "scale": np.array(640.0, np.float32), "shape_b": np.array([0, 4, a * a], np.int64),
             "shape_s": np.array([0, a * a], np.int64)}
    nodes = [helper.make_node("Conv", ["image", "w1"], ["c1"], "stem", pads=[1, 1, 1, 1], strides=[2, 2]),
             helper.make_node("Relu", ["c1"], ["r1"], "stem_relu"),
             helper.make_node("Conv", ["r1", "w2"], ["c2"], "neck", pads=[1, 1, 1, 1], strides=[2, 2]),
             helper.make_node("Relu", ["c2"], ["r2"], "neck_relu"),
             helper.make_node("Conv", ["r2", "w3"], ["c3"], "neck2", pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c3"], ["feat"], "neck2_relu"),
             helper.make_node("Conv", ["feat", "wb"], ["b"], "box_conv"),
             helper.make_node("Mul", ["b", "scale"], ["bs"], "box_scale"),
             helper.make_node("Reshape", ["bs", "shape_b"], ["b3"], "box_reshape"),
             helper.make_node("Transpose", ["b3"], ["boxes"], "box_transpose", perm=[0, 2, 1]),
             helper.make_node("Conv", ["feat", "ws", "bias_s"], ["s"], "score_conv"),
             helper.make_node("Add", ["s", "prior"], ["sp"], "score_prior"),
             helper.make_node("Sigmoid", ["sp"], ["sg"], "score_sigmoid"),
             helper.make_node("Reshape", ["sg", "shape_s"], ["scores"], "score_reshape")]
    outs = [helper.make_tensor_value_info("boxes", TensorProto.FLOAT, ["N", a * a, 4]),
            helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["N", a * a])]
    path = _save(nodes, [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, 2 * SIDE, 2 * SIDE])],
                 outs, inits, folder / "detector.onnx")
    x = rng.uniform(0, 1, (SAMPLES, 3, 2 * SIDE, 2 * SIDE)).astype(np.float32)
    return path, _npz(folder / "detector.npz", image=x), {"boxes": "regression", "scores": "score"}


SEQ, DIM = 64, 256
BRANCH = 0.5  # what attention and the MLP add to the residual stream, against the tokens' unit scale
OUTLIER = 400.0  # the massive activation of trained encoders' residual stream (one dimension, hundreds in size)


def encoder(folder: Path) -> tuple[Path, Path, dict[str, str]]:
    """tokens [N,64,256] -> LayerNorm -> single-head attention -> residual -> LayerNorm -> MLP -> residual ->
    LayerNorm: hidden [N,64,256]. The residual stream carries one outlier dimension of a few hundred, which the
    LayerNorms' gains suppress (as trained encoders do): per-tensor int8 of the residual stream and of the inputs
    of the residual Adds then has a step of ~2 against values of ~1, and the hidden states lose their direction."""
    from onnx import TensorProto, helper
    rng = np.random.default_rng(3)
    d = DIM

    def mat(*shape: int) -> np.ndarray:
        return rng.normal(0, 1 / np.sqrt(shape[0]), shape).astype(np.float32)
    gain = np.full(d, OUTLIER / np.sqrt(d), np.float32)  # undoes the outlier's share of the variance
    gain[5] = 0.01
    shift = np.full(d, OUTLIER / d, np.float32)  # and its share of the mean: the other dimensions stay centred
    shift[5] = 0.0
    inits = {"g": gain, "be": shift, "wq": mat(d, d), "wk": mat(d, d),
             "wv": mat(d, d), "wo": BRANCH * mat(d, d), "w1": mat(d, 4 * d), "w2": BRANCH * mat(4 * d, d),
             "sc": np.array(1 / np.sqrt(d), np.float32)}
    ln = [("LayerNormalization", ["tokens", "g", "be"], ["h0"], "ln_in")]
    spec = ln + [("MatMul", ["h0", "wq"], ["q"], "q_proj"), ("MatMul", ["h0", "wk"], ["k"], "k_proj"),
                 ("MatMul", ["h0", "wv"], ["v"], "v_proj"), ("Transpose", ["k"], ["kt"], "k_t"),
                 ("MatMul", ["q", "kt"], ["qk"], "qk"), ("Mul", ["qk", "sc"], ["qks"], "qk_scale"),
                 ("Softmax", ["qks"], ["p"], "softmax"), ("MatMul", ["p", "v"], ["a"], "attn_v"),
                 ("MatMul", ["a", "wo"], ["o"], "o_proj"), ("Add", ["tokens", "o"], ["r1"], "residual1"),
                 ("LayerNormalization", ["r1", "g", "be"], ["h1"], "ln_mid"),
                 ("MatMul", ["h1", "w1"], ["m1"], "mlp_up"), ("Relu", ["m1"], ["m2"], "mlp_relu"),
                 ("MatMul", ["m2", "w2"], ["m3"], "mlp_down"), ("Add", ["r1", "m3"], ["r2"], "residual2"),
                 ("LayerNormalization", ["r2", "g", "be"], ["hidden"], "ln_out")]
    attrs: dict[str, Any] = {"perm": [0, 2, 1]}
    nodes = [helper.make_node(op, i, o, n, **(attrs if op == "Transpose" else {})) for op, i, o, n in spec]
    path = _save(nodes, [helper.make_tensor_value_info("tokens", TensorProto.FLOAT, ["N", SEQ, d])],
                 [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["N", SEQ, d])], inits,
                 folder / "encoder.onnx")
    x = rng.normal(0, 1, (SAMPLES, SEQ, d)).astype(np.float32)
    x[:, :, 5] += OUTLIER
    return path, _npz(folder / "encoder.npz", tokens=x), {"hidden": "embedding"}


def _npz(path: Path, **arrays: np.ndarray) -> Path:
    np.savez(path, **arrays)  # type: ignore[arg-type]
    return path


STANDINS = {"cnn": cnn, "detector": detector, "encoder": encoder}
