"""Tiny models for the deployment-card tests, built with onnx.helper, and a TFLite file given metadata the way
tflite-support writes it (a ModelMetadata flatbuffer in a buffer named by the TFLITE_METADATA entry, label files as
a zip appended to the file)."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path


def classifier_onnx(path: Path, opset: int, ir: int) -> Path:
    """image:0 [batch, 8, 8, 3] -> ReduceMean over H, W -> MatMul -> Softmax: probs [batch, 4]."""
    import onnx
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("image:0", TensorProto.FLOAT, ["batch", 8, 8, 3])
    y = helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["batch", 4])
    inits = [helper.make_tensor("w", TensorProto.FLOAT, [3, 4], [0.1 * i for i in range(12)])]
    if opset >= 18:  # ReduceMean takes its axes as an input from opset 18 on
        inits.append(helper.make_tensor("axes", TensorProto.INT64, [2], [1, 2]))
        reduce = helper.make_node("ReduceMean", ["image:0", "axes"], ["m"], keepdims=0)
    else:
        reduce = helper.make_node("ReduceMean", ["image:0"], ["m"], axes=[1, 2], keepdims=0)
    nodes = [reduce, helper.make_node("MatMul", ["m", "w"], ["z"]), helper.make_node("Softmax", ["z"], ["probs"])]
    model = helper.make_model(helper.make_graph(nodes, "tiny", [x], [y], inits),
                              opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = ir
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def conv_onnx(path: Path) -> Path:
    """NCHW Conv + Relu at opset 13 / IR 7: onnxruntime's offline optimization fuses it into runtime-only ops."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    w = numpy_helper.from_array(rng.standard_normal((16, 8, 3, 3)).astype(np.float32), "w")
    b = numpy_helper.from_array(rng.standard_normal(16).astype(np.float32), "b")
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 32, 32])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16, 32, 32])
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]), helper.make_node("Relu", ["c"], ["y"])]
    model = helper.make_model(helper.make_graph(nodes, "conv", [x], [y], [w, b]),
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.save(model, str(path))
    return path


def _metadata_flatbuffer(mean: float, std: float, width: int, height: int, label_file: str) -> bytes:
    import flatbuffers

    b = flatbuffers.Builder(256)
    # leaves first: a flatbuffer is built bottom-up
    label_name, label_desc = b.CreateString(label_file), b.CreateString("labels for the output")
    b.StartObject(4)  # AssociatedFile
    b.PrependUOffsetTRelativeSlot(0, label_name, 0)
    b.PrependUOffsetTRelativeSlot(1, label_desc, 0)
    b.PrependInt8Slot(2, 2, 0)  # TENSOR_AXIS_LABELS
    assoc = b.EndObject()

    def vector_of(offsets: list[int]) -> int:
        b.StartVector(4, len(offsets), 4)
        for o in reversed(offsets):
            b.PrependUOffsetTRelative(o)
        return b.EndVector()

    def floats(values: list[float]) -> int:
        b.StartVector(4, len(values), 4)
        for v in reversed(values):
            b.PrependFloat32(v)
        return b.EndVector()

    mean_v, std_v = floats([mean]), floats([std])
    b.StartObject(2)  # NormalizationOptions
    b.PrependUOffsetTRelativeSlot(0, mean_v, 0)
    b.PrependUOffsetTRelativeSlot(1, std_v, 0)
    norm = b.EndObject()
    b.StartObject(2)  # ProcessUnit
    b.PrependUint8Slot(0, 1, 0)  # NormalizationOptions
    b.PrependUOffsetTRelativeSlot(1, norm, 0)
    unit = b.EndObject()
    b.StartObject(2)  # ImageSize
    b.PrependUint32Slot(0, width, 0)
    b.PrependUint32Slot(1, height, 0)
    size = b.EndObject()
    b.StartObject(2)  # ImageProperties
    b.PrependInt8Slot(0, 1, 0)  # RGB
    b.PrependUOffsetTRelativeSlot(1, size, 0)
    image = b.EndObject()
    b.StartObject(3)  # Content
    b.PrependUint8Slot(0, 2, 0)  # ImageProperties
    b.PrependUOffsetTRelativeSlot(1, image, 0)
    content = b.EndObject()
    units, files = vector_of([unit]), vector_of([assoc])
    in_name, out_name = b.CreateString("image"), b.CreateString("probability")
    b.StartObject(7)  # TensorMetadata (input)
    b.PrependUOffsetTRelativeSlot(0, in_name, 0)
    b.PrependUOffsetTRelativeSlot(3, content, 0)
    b.PrependUOffsetTRelativeSlot(4, units, 0)
    tin = b.EndObject()
    b.StartObject(7)  # TensorMetadata (output)
    b.PrependUOffsetTRelativeSlot(0, out_name, 0)
    b.PrependUOffsetTRelativeSlot(6, files, 0)
    tout = b.EndObject()
    ins, outs = vector_of([tin]), vector_of([tout])
    b.StartObject(5)  # SubGraphMetadata
    b.PrependUOffsetTRelativeSlot(2, ins, 0)
    b.PrependUOffsetTRelativeSlot(3, outs, 0)
    sg = b.EndObject()
    sgs, model_name = vector_of([sg]), b.CreateString("tiny classifier")
    b.StartObject(8)  # ModelMetadata
    b.PrependUOffsetTRelativeSlot(0, model_name, 0)
    b.PrependUOffsetTRelativeSlot(3, sgs, 0)
    root = b.EndObject()
    b.Finish(root, file_identifier=b"M001")
    return bytes(b.Output())


def tflite_with_metadata(src: Path, dest: Path, mean: float = 127.5, std: float = 127.5,
                         labels: tuple[str, ...] = ("zero", "one", "two", "three")) -> Path:
    import flatbuffers
    from tensorflow.lite.python import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(bytearray(src.read_bytes()), 0)
    buf = schema.BufferT()
    buf.data = list(_metadata_flatbuffer(mean, std, 16, 16, "labels.txt"))
    model.buffers.append(buf)
    entry = schema.MetadataT()
    entry.name = "TFLITE_METADATA"
    entry.buffer = len(model.buffers) - 1
    model.metadata = [*(model.metadata or []), entry]
    b = flatbuffers.Builder(1024)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as zf:
        zf.writestr("labels.txt", "\n".join(labels) + "\n")
    dest.write_bytes(bytes(b.Output()) + packed.getvalue())
    return dest


def fp16_onnx(path: Path) -> Path:
    """float16 in and out (as an fp16 variant with fp16 I/O): onnxruntime runs it, ML.NET cannot map it."""
    import onnx
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT16, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT16, [1, 4])
    model = helper.make_model(helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "fp16", [x], [y]),
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.save(model, str(path))
    return path


def _const(name: str, values: list[float], dims: list[int], dtype: int = 1) -> object:
    """A Constant node, as Paddle2ONNX writes every weight and shape (no initializers)."""
    from onnx import helper

    return helper.make_node("Constant", [], [name], value=helper.make_tensor(f"{name}_v", dtype, dims, values))


def paddle_style_onnx(path: Path) -> Path:
    """x [p2o.N, 3, p2o.H, p2o.W] -> Mul/Add by Constants -> Conv (Constant weights) -> Relu -> GlobalAveragePool ->
    Reshape (Constant shape) -> Softmax, opset 12 / IR 7: every tensor but the input comes from a Constant node."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper

    rng = np.random.default_rng(1)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["p2o.DynamicDimension.0", 3, "p2o.DynamicDimension.1",
                                                               "p2o.DynamicDimension.2"])
    y = helper.make_tensor_value_info("softmax_0.tmp_0", TensorProto.FLOAT, ["p2o.DynamicDimension.0", 8])
    nodes = [_const("scale", [1 / 58.0], []), _const("bias", [-2.0], []),
             _const("conv_w", rng.standard_normal(8 * 3 * 3 * 3).tolist(), [8, 3, 3, 3]),
             _const("shape", [0, -1], [2], TensorProto.INT64),
             helper.make_node("Mul", ["x", "scale"], ["m"]), helper.make_node("Add", ["m", "bias"], ["a"]),
             helper.make_node("Conv", ["a", "conv_w"], ["c"], pads=[1, 1, 1, 1], strides=[2, 2]),
             helper.make_node("Relu", ["c"], ["r"]), helper.make_node("GlobalAveragePool", ["r"], ["g"]),
             helper.make_node("Reshape", ["g", "shape"], ["f"]),
             helper.make_node("Softmax", ["f"], ["softmax_0.tmp_0"], axis=1)]
    model = helper.make_model(helper.make_graph(nodes, "paddle", [x], [y]), opset_imports=[helper.make_opsetid("", 12)],
                              producer_name="PaddlePaddle")
    model.ir_version = 7
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def reshape_hw_onnx(path: Path) -> Path:
    """x [batch, 3, height, width] -> Reshape to [0, 3, -1, 4] (H*W must be a multiple of 4: a 1x1 image fails) ->
    ReduceMean over axis 2: y [batch, 3, 4]."""
    import onnx
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3, "height", "width"])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3, 4])
    nodes = [_const("shape", [0, 3, -1, 4], [4], TensorProto.INT64), helper.make_node("Reshape", ["x", "shape"], ["r"]),
             helper.make_node("ReduceMean", ["r"], ["y"], axes=[2], keepdims=0)]
    model = helper.make_model(helper.make_graph(nodes, "reshape-hw", [x], [y]),
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def yolo_head_onnx(path: Path) -> Path:
    """A YOLOv8-style neck and head with dynamic dims: images [batch, 3, height, width] -> Conv s2 (P1) -> Conv s2 (P2)
    -> Resize x2 -> Concat with P1 (H and W must be multiples of 4, else 'Non concat axis dimensions must match') ->
    Conv 1x1 to 84 channels -> Reshape [0, 84, -1] -> Sigmoid: output0 [batch, 84, anchors]; opset 17, IR 8, with
    Ultralytics-like metadata (stride, task; no imgsz)."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(2)
    inits = [numpy_helper.from_array((rng.standard_normal(s) * 0.1).astype(np.float32), n) for n, s in
             (("w1", (8, 3, 3, 3)), ("w2", (8, 8, 3, 3)), ("w3", (84, 16, 1, 1)))]
    x = helper.make_tensor_value_info("images", TensorProto.FLOAT, ["batch", 3, "height", "width"])
    y = helper.make_tensor_value_info("output0", TensorProto.FLOAT, ["batch", 84, "anchors"])
    nodes = [helper.make_node("Conv", ["images", "w1"], ["p1"], pads=[1, 1, 1, 1], strides=[2, 2]),
             helper.make_node("Conv", ["p1", "w2"], ["p2"], pads=[1, 1, 1, 1], strides=[2, 2]),
             _const("scales", [1, 1, 2, 2], [4]),
             helper.make_node("Resize", ["p2", "", "scales"], ["up"], mode="nearest"),
             helper.make_node("Concat", ["up", "p1"], ["cat"], axis=1),
             helper.make_node("Conv", ["cat", "w3"], ["h"]),
             _const("shape", [0, 84, -1], [3], TensorProto.INT64), helper.make_node("Reshape", ["h", "shape"], ["r"]),
             helper.make_node("Sigmoid", ["r"], ["output0"])]
    model = helper.make_model(helper.make_graph(nodes, "main_graph", [x], [y], inits),
                              opset_imports=[helper.make_opsetid("", 17)], producer_name="pytorch")
    model.ir_version = 8
    for key, value in (("stride", "32"), ("task", "detect"), ("names", "{0: 'person'}")):
        model.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path
