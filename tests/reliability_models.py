"""Tiny purpose-made hostile or failing models for the reliability tests, each built from scratch in a few ms-s."""
from __future__ import annotations

import copy
import json
import os
import zipfile
from pathlib import Path

import numpy as np


def tflite_with_op(path: Path, op: str) -> Path:
    """A [1,4] -> [1,4] TFLite model whose only non-builtin operator is `op`.

    "erf": tf.math.erf becomes the select-TF op FlexErf, which LiteRT cannot run but tf2onnx converts (ONNX has Erf).
    "erfinv": tf.math.erfinv becomes the custom op Erfinv, which neither LiteRT nor tf2onnx knows.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    fn = {"erf": tf.math.erf, "erfinv": lambda x: tf.math.erfinv(x * 0.1)}[op]

    @tf.function(input_signature=[tf.TensorSpec([1, 4], tf.float32, name="x")])
    def model(x):
        return fn(x) + 1.0

    conv = tf.lite.TFLiteConverter.from_concrete_functions([model.get_concrete_function()], model)
    if op == "erf":
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS, tf.lite.OpsSet.SELECT_TF_OPS]
    else:
        conv.allow_custom_ops = True
    path.write_bytes(conv.convert())
    return path


def onnx_needing_memory(path: Path, megabytes: int) -> Path:
    """x [1,1] -> Expand to [1, N] -> ReduceSum: one intermediate tensor of `megabytes` that ONNX Runtime must allocate
    at inference (it depends on the input, so graph optimization cannot fold it away)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    n = megabytes * (1 << 20) // 4
    graph = helper.make_graph(
        [helper.make_node("Expand", ["x", "shape"], ["big"]),
         helper.make_node("ReduceSum", ["big", "axes"], ["y"], keepdims=1)],
        "needs_memory",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1])],
        [numpy_helper.from_array(np.array([1, n], np.int64), "shape"),
         numpy_helper.from_array(np.array([1], np.int64), "axes")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def onnx_with_external_data(path: Path, location: str, sparse: bool = False) -> Path:
    """A tiny valid graph (y[1,4] = x[1,4] + w[4]) whose weight w claims to live in external file `location`."""
    from onnx import TensorProto, helper

    w = helper.make_tensor("w", TensorProto.FLOAT, [4], np.zeros(4, np.float32).tobytes(), raw=True)
    w.ClearField("raw_data")
    w.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"), ("length", "16")):
        entry = w.external_data.add()
        entry.key, entry.value = key, value
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])]
    outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])]
    nodes = [helper.make_node("Add", ["x", "w"], ["y"])]
    if sparse:
        indices = helper.make_tensor("w_idx", TensorProto.INT64, [4], [0, 1, 2, 3])
        graph = helper.make_graph(nodes, "ext", inputs, outputs,
                                  sparse_initializer=[helper.make_sparse_tensor(w, indices, [4])])
    else:
        graph = helper.make_graph(nodes, "ext", inputs, outputs, [w])
    # serialized by hand: onnx.save would try to write external tensors out to `location`
    path.write_bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
    return path


def keras_with_lambda(path: Path) -> Path:
    import keras

    inp = keras.Input((4,), name="x")
    out = keras.layers.Lambda(lambda t: t * 2.0)(inp)
    keras.Model(inp, out).save(path)
    return path


def keras_naming(path: Path, plain_keras: Path, module: str, name: str, config: dict) -> Path:
    """A copy of a valid .keras file whose second layer is replaced by `module.name(**config)`."""
    with zipfile.ZipFile(plain_keras) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    cfg = copy.deepcopy(json.loads(members["config.json"]))
    layer = cfg["config"]["layers"][1]
    cfg["config"]["layers"][1] = {"module": module, "class_name": name, "config": config, "registered_name": None,
                                  "name": layer["name"], "inbound_nodes": layer["inbound_nodes"]}
    members["config.json"] = json.dumps(cfg).encode()
    with zipfile.ZipFile(path, "w") as zf:
        for n, b in members.items():
            zf.writestr(n, b)
    return path
