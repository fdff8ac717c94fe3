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


def onnx_recurrent_vad(path: Path, named: bool = True) -> Path:
    """A voice-activity-detector-shaped graph: x [batch, 64], a recurrent state [2, batch, 16] (batch axis 1) and a
    rank-0 int64 sample rate `sr`; outputs prob [batch, 1] and the next state [2, batch, 16]. With named=False the
    state's dims are anonymous, so its batch axis must be declared (the .npz's `axes`)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(8)
    batch = "batch" if named else None
    w1 = numpy_helper.from_array(rng.normal(0, 0.2, (96, 1)).astype(np.float32), "w1")
    w2 = numpy_helper.from_array(rng.normal(0, 0.2, (96, 32)).astype(np.float32), "w2")
    consts = [numpy_helper.from_array(np.array([0, 32], np.int64), "flat_shape"),
              numpy_helper.from_array(np.array([0, 2, 16], np.int64), "state_shape"),
              numpy_helper.from_array(np.array(16000.0, np.float32), "base_rate")]
    nodes = [
        helper.make_node("Transpose", ["state"], ["s_t"], perm=[1, 0, 2]),
        helper.make_node("Reshape", ["s_t", "flat_shape"], ["s_flat"]),
        helper.make_node("Concat", ["x", "s_flat"], ["h"], axis=1),
        helper.make_node("Cast", ["sr"], ["sr_f"], to=TensorProto.FLOAT),
        helper.make_node("Div", ["sr_f", "base_rate"], ["scale"]),
        helper.make_node("Mul", ["h", "scale"], ["h2"]),
        helper.make_node("MatMul", ["h2", "w1"], ["logit"]),
        helper.make_node("Sigmoid", ["logit"], ["prob"]),
        helper.make_node("MatMul", ["h2", "w2"], ["n_lin"]),
        helper.make_node("Tanh", ["n_lin"], ["n_flat"]),
        helper.make_node("Reshape", ["n_flat", "state_shape"], ["n_3d"]),
        helper.make_node("Transpose", ["n_3d"], ["stateN"], perm=[1, 0, 2]),
    ]
    graph = helper.make_graph(
        nodes, "vad",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch" if named else None, 64]),
         helper.make_tensor_value_info("state", TensorProto.FLOAT, [2, batch, 16]),
         helper.make_tensor_value_info("sr", TensorProto.INT64, [])],
        [helper.make_tensor_value_info("prob", TensorProto.FLOAT, ["batch" if named else None, 1]),
         helper.make_tensor_value_info("stateN", TensorProto.FLOAT, [2, batch, 16])],
        [w1, w2, *consts])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def onnx_token_classifier(path: Path, vocab: int = 50) -> Path:
    """input_ids and attention_mask, int64 [batch, sequence] -> embedding Gather (a `vocab`-row table: a larger id is
    an error) -> masked mean -> logits [batch, 3], as a tiny exported BERT-style classifier."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(9)
    nodes = [
        helper.make_node("Gather", ["emb", "input_ids"], ["e"]),
        helper.make_node("Cast", ["attention_mask"], ["m"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["m", "last"], ["m3"]),
        helper.make_node("Mul", ["e", "m3"], ["em"]),
        helper.make_node("ReduceMean", ["em", "seq_axis"], ["pooled"], keepdims=0),
        helper.make_node("Gemm", ["pooled", "fc"], ["logits"]),
    ]
    dims = ["batch", "sequence"]
    graph = helper.make_graph(
        nodes, "tokens",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, dims),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, dims)],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 3])],
        [numpy_helper.from_array(rng.normal(size=(vocab, 8)).astype(np.float32), "emb"),
         numpy_helper.from_array(rng.normal(size=(8, 3)).astype(np.float32), "fc"),
         numpy_helper.from_array(np.array([-1], np.int64), "last"),
         numpy_helper.from_array(np.array([1], np.int64), "seq_axis")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def keras_h5_with_lambda(path: Path, marker: Path) -> Path:
    """A legacy Keras HDF5 model with a Lambda layer whose Python lambda creates `marker` when it runs (Keras runs it
    once while building the model; the file is removed before returning, so its reappearance means code ran)."""
    import keras

    inp = keras.Input((4,), name="x")
    where = str(marker)  # a closure the config can hold
    out = keras.layers.Lambda(lambda t: (open(where, "w").close(), t * 2.0)[1])(inp)
    keras.Model(inp, out).save(path)
    marker.unlink(missing_ok=True)
    return path


def tflite_sparse(path: Path) -> Path:
    """A .tflite whose Conv and Dense weights (90% zeros) are stored in TFLite's sparse format behind DENSIFY ops, as
    the converter's EXPERIMENTAL_SPARSITY writes them (tf2onnx misreads these: "cannot reshape array of size ...")."""
    import tempfile

    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    inp = keras.Input((8, 8, 16), name="x")
    conv, dense = keras.layers.Conv2D(32, 3, padding="same"), keras.layers.Dense(8)
    model = keras.Model(inp, dense(keras.layers.GlobalAveragePooling2D()(conv(inp))))
    rng = np.random.default_rng(0)
    for layer in (conv, dense):
        w, b = layer.get_weights()
        layer.set_weights([w * (rng.uniform(size=w.shape) < 0.1), b])
    with tempfile.TemporaryDirectory() as sm:
        model.export(sm, verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(sm)
        converter.optimizations = [tf.lite.Optimize.EXPERIMENTAL_SPARSITY]
        path.write_bytes(converter.convert())
    return path
