"""The custom operators MediaPipe's models carry and LiteRT's XNNPACK delegate runs natively
(`Convolution2DTransposeBias`, `MaxPoolingWithArgmax2D`, `MaxUnpooling2D`), taught to tf2onnx's TFLite path.

Their options are not the flexbuffer map tf2onnx reads: XNNPACK memcpy's them as TFLite's C structs
(TfLiteTransposeConvParams: padding, stride_w, stride_h; TfLitePoolParams: padding, stride_w, stride_h, filter_w,
filter_h; TfLitePadding 1 = SAME, 2 = VALID). `options_as_flexbuffers` rewrites them into flexbuffer maps in a copy
of the .tflite, so tf2onnx hands them to our handlers as node attributes; `register` adds the handlers:
- Convolution2DTransposeBias (input, OHWI weights, bias) -> TensorFlow's Conv2DBackpropInput + BiasAdd, which
  tf2onnx turns into ONNX ConvTranspose with the bias;
- MaxPoolingWithArgmax2D -> ONNX MaxPool with its indices output, the flat ONNX index turned into XNNPACK's index
  within the pooling window (what the .tflite's second output holds);
- MaxUnpooling2D -> ONNX MaxUnpool, the window index turned back into a flat one.
LiteRT runs these ops only through XNNPACK (without it: "Encountered unresolved custom op").
"""
from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

OPS = ("Convolution2DTransposeBias", "MaxPoolingWithArgmax2D", "MaxUnpooling2D")
_FIELDS = {"Convolution2DTransposeBias": ("padding", "stride_w", "stride_h"),
           "MaxPoolingWithArgmax2D": ("padding", "stride_w", "stride_h", "filter_w", "filter_h"),
           "MaxUnpooling2D": ("padding", "stride_w", "stride_h", "filter_w", "filter_h")}
PADDING = {1: "SAME", 2: "VALID"}


def _model(path: str | Path) -> Any:
    from tensorflow.lite.python import schema_py_generated as schema
    return schema.ModelT.InitFromPackedBuf(Path(path).read_bytes(), 0)


def _custom_code(model: Any, op: Any) -> str:
    code = model.operatorCodes[op.opcodeIndex].customCode
    return code.decode() if isinstance(code, bytes) else (code or "")


def custom_ops(path: str | Path) -> list[str]:
    """The MediaPipe custom ops in the .tflite, one name per op."""
    model = _model(path)
    return [c for g in model.subgraphs for op in g.operators if (c := _custom_code(model, op)) in OPS]


def _as_map(name: str, raw: bytes) -> dict[str, int]:
    """The C struct's leading int32 fields, by name (a struct shorter than the fields named keeps what it has)."""
    fields = _FIELDS[name]
    count = min(len(fields), len(raw) // 4)
    return dict(zip(fields, struct.unpack(f"<{count}i", raw[:4 * count])))


def options_as_flexbuffers(src: str | Path, dst: str | Path) -> int:
    """Copy `src` to `dst` with every MediaPipe op's struct options written as a flexbuffer map; returns how many."""
    import flatbuffers
    from flatbuffers import flexbuffers

    model = _model(src)
    count = 0
    for graph in model.subgraphs:
        for op in graph.operators:
            name = _custom_code(model, op)
            if name not in OPS or op.customOptions is None:
                continue
            op.customOptions = list(flexbuffers.Dumps(_as_map(name, bytes(bytearray(op.customOptions)))))
            op.customOptionsFormat = 0  # FLEXBUFFERS
            count += 1
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    Path(dst).write_bytes(builder.Output())
    return count


def _conv_transpose_bias_to_tf(ctx: Any, node: Any, **kwargs: Any) -> None:
    """(input, OHWI weights, bias) -> Conv2DBackpropInput(output size, HWOI weights, input) + BiasAdd, the form
    tf2onnx already turns into ConvTranspose (as it does TFLite's own TRANSPOSE_CONV)."""
    import numpy as np
    from tf2onnx import utils

    inp, weights, bias = node.input
    out = node.output[0]
    sizes = ctx.make_const(utils.make_name(node.name + "_sizes"), np.array(ctx.get_shape(out), np.int32))
    ctx.replace_inputs(node, [sizes.output[0], weights, inp])
    node.set_attr("strides", [1, node.get_attr_int("stride_h"), node.get_attr_int("stride_w"), 1])
    node.set_attr("padding", PADDING.get(node.get_attr_int("padding"), "SAME"))
    node.set_attr("data_format", "NHWC")
    for name in ("stride_h", "stride_w"):
        del node.attr[name]
    transpose = ctx.insert_new_node_on_input(node, "Transpose", node.input[1], name=None, perm=[1, 2, 0, 3])
    transpose.skip_conversion = True
    add = ctx.insert_new_node_on_output("BiasAdd", out, name=utils.make_name(node.name + "_bias"),
                                        data_format="NHWC")
    ctx.replace_inputs(add, [out, bias])
    add.skip_conversion = True
    ctx.set_dtype(add.output[0], ctx.get_dtype(out))
    ctx.set_shape(add.output[0], ctx.get_shape(out))


_registered: list[bool] = []


def register() -> None:
    """Add the handlers to tf2onnx's TFLite registry (once per process)."""
    if _registered:
        return
    from tf2onnx.handler import tf_op

    # tf2onnx calls a TFLite -> TensorFlow handler as func(graph, node, **kwargs)
    tf_op.register_handler(_conv_transpose_bias_to_tf, 0, ["TFL_Convolution2DTransposeBias"], "com.google.tensorflow",
                           {"tf_op": "Conv2DBackpropInput"})
    _registered.append(True)


def main() -> None:
    """`python -m edgebench.optimizers.tflite_custom_ops ARGS`: tf2onnx's command line with the handlers added."""
    import tf2onnx.convert
    register()
    tf2onnx.convert.main()


if __name__ == "__main__":
    main()
