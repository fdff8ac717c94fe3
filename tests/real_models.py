"""Small stand-ins for models from the field, built from scratch: a PyTorch-style ONNX export with symbolic dims."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def onnx_dynamic_cnn(path: Path, opset: int = 17) -> Path:
    """x [batch, 3, height, width] -> Conv 3x3 -> Relu -> GlobalAveragePool -> Flatten -> Gemm -> logits [batch, 5],
    as torch.onnx.export writes an OCR classifier with dynamic axes (node names with '@' and '/', as exporters do)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(3)
    w = numpy_helper.from_array(rng.normal(0, 0.3, (4, 3, 3, 3)).astype(np.float32), "conv.weight")
    b = numpy_helper.from_array(rng.normal(0, 0.1, (4,)).astype(np.float32), "conv.bias")
    fw = numpy_helper.from_array(rng.normal(0, 0.5, (5, 4)).astype(np.float32), "fc.weight")
    fb = numpy_helper.from_array(rng.normal(0, 0.1, (5,)).astype(np.float32), "fc.bias")
    nodes = [
        helper.make_node("Conv", ["x", "conv.weight", "conv.bias"], ["c"], name="/conv/Conv@0", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"], name="/relu/Relu"),
        helper.make_node("GlobalAveragePool", ["r"], ["g"], name="/pool/GlobalAveragePool"),
        helper.make_node("Flatten", ["g"], ["f"], name="/Flatten"),
        helper.make_node("Gemm", ["f", "fc.weight", "fc.bias"], ["logits"], name="/fc/Gemm", transB=1),
    ]
    graph = helper.make_graph(nodes, "dyn_cnn",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3, "height", "width"])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 5])],
                              [w, b, fw, fb])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="pytorch")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def onnx_fixed_reshape(path: Path) -> Path:
    """v [batch, n] -> Reshape to [-1, 2, 4] -> ReduceSum -> y [batch, 4]: only n = 8 runs, whatever n says."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph(
        [helper.make_node("Reshape", ["v", "to"], ["r"]),
         helper.make_node("ReduceSum", ["r", "axes"], ["y"], keepdims=0)], "fixed_reshape",
        [helper.make_tensor_value_info("v", TensorProto.FLOAT, ["batch", "n"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])],
        [numpy_helper.from_array(np.array([-1, 2, 4], np.int64), "to"),
         numpy_helper.from_array(np.array([1], np.int64), "axes")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def keras_two_heads(path: Path) -> Path:
    """Two inputs (an image and a feature vector), two outputs: a regression head `box` [4] (no classes: top-1 would
    mean nothing there) and a classification head `cls` [3] (softmax), as a face-landmark model has."""
    import keras

    keras.utils.set_random_seed(5)
    image = keras.Input((8, 8, 3), name="image")
    feats = keras.Input((4,), name="feats")
    x = keras.layers.Conv2D(4, 3, activation="relu")(image)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Concatenate()([x, keras.layers.Dense(4, activation="relu")(feats)])
    box = keras.layers.Dense(4, name="box")(x)
    cls = keras.layers.Dense(3, activation="softmax", name="cls")(x)
    keras.Model([image, feats], [box, cls], name="two_heads").save(path)
    return path


def onnx_bitwise_not(path: Path) -> Path:
    """x [batch, 4] float -> Cast int32 -> BitwiseNot -> Cast float -> y: ONNX Runtime runs it; onnx2tf has no
    BitwiseNot, so the LiteRT side must fail with its reason while the ONNX Runtime side still runs."""
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Cast", ["x"], ["i"], to=TensorProto.INT32),
         helper.make_node("BitwiseNot", ["i"], ["n"]),
         helper.make_node("Cast", ["n"], ["y"], to=TensorProto.FLOAT)], "bitwise_not",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path
