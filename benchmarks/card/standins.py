"""Stand-in ONNX files for the deployment card, built with onnx.helper: tiny, but shaped like the third-party files
users bring (Paddle2ONNX graphs full of Constant nodes with symbolic H/W, a Reshape that needs H and W larger than 1,
a YOLOv8-style head with dynamic dims), plus the classifiers the tests check opset/IR, offline-optimized and float16
verdicts with. The tests and the card_agreement self-check use the same files."""
from __future__ import annotations

from pathlib import Path
from typing import Any


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


def _const(name: str, values: list[float], dims: list[int], dtype: int = 1) -> Any:
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


STAND_INS = {"op21-ir10": lambda p: classifier_onnx(p, 21, 10), "op13-ir7": lambda p: classifier_onnx(p, 13, 7),
             "conv": conv_onnx, "fp16": fp16_onnx, "paddle-style": paddle_style_onnx, "reshape-hw": reshape_hw_onnx,
             "yolo-head": yolo_head_onnx}


def write_stand_ins(folder: Path) -> dict[str, Path]:
    """Every stand-in as <name>.onnx in folder."""
    folder.mkdir(parents=True, exist_ok=True)
    return {name: make(folder / f"{name}.onnx") for name, make in STAND_INS.items()}
