"""A published-segmentation-model stand-in: a .tflite whose transposed convolution is MediaPipe's custom op
`Convolution2DTransposeBias` (LiteRT runs it through XNNPACK), built without a download: TensorFlow's converter
writes TRANSPOSE_CONV with its bias, and the flatbuffer is rewritten so that op becomes the custom one, its options
the C struct XNNPACK reads (TfLiteTransposeConvParams: padding, stride_w, stride_h).
"""
from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import numpy as np

TRANSPOSE_CONV = 67  # tflite BuiltinOperator
CUSTOM = 32


def _keras_segmenter(padding: str) -> Any:
    import keras
    inp = keras.Input((8, 8, 4), batch_size=1, name="image")
    y = keras.layers.Conv2D(6, 3, padding="same", activation="relu")(inp)
    y = keras.layers.Conv2DTranspose(5, 3, strides=2, padding=padding, use_bias=True)(y)
    model = keras.Model(inp, keras.layers.Conv2D(2, 1)(y))
    rng = np.random.default_rng(11)
    for w in model.weights:  # biases away from zero, or a lost bias would go unnoticed
        w.assign(rng.normal(0, 0.5, w.shape).astype(np.float32))
    return model


def _as_custom_op(model: Any) -> int:
    """Every TRANSPOSE_CONV (output size, OHWI weights, input, bias) becomes Convolution2DTransposeBias (input,
    weights, bias); returns how many."""
    from tensorflow.lite.python import schema_py_generated as schema
    code = schema.OperatorCodeT()
    code.builtinCode = code.deprecatedBuiltinCode = CUSTOM
    code.customCode, code.version = "Convolution2DTransposeBias", 1
    model.operatorCodes.append(code)
    count = 0
    for op in model.subgraphs[0].operators:
        if model.operatorCodes[op.opcodeIndex].builtinCode != TRANSPOSE_CONV:
            continue
        opts = op.builtinOptions
        op.inputs = [op.inputs[2], op.inputs[1], op.inputs[3]]
        op.opcodeIndex = len(model.operatorCodes) - 1
        op.builtinOptionsType, op.builtinOptions = 0, None
        padding = 1 if opts.padding == 0 else 2  # schema SAME=0/VALID=1 -> TfLitePadding SAME=1/VALID=2
        op.customOptions = list(struct.pack("<3i", padding, opts.strideW, opts.strideH))
        op.customOptionsFormat = 0
        count += 1
    return count


def tflite_conv_transpose_bias(path: Path, padding: str = "same") -> Path:
    """Write the stand-in to `path` (input `image` [1, 8, 8, 4], output [1, 16|17, 16|17, 2]) and return it."""
    import flatbuffers
    import tensorflow as tf
    from tensorflow.lite.python import schema_py_generated as schema

    flat = tf.lite.TFLiteConverter.from_keras_model(_keras_segmenter(padding)).convert()
    model = schema.ModelT.InitFromPackedBuf(flat, 0)
    if _as_custom_op(model) != 1:
        raise RuntimeError("TensorFlow's converter wrote no TRANSPOSE_CONV with a bias to rewrite")
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    path.write_bytes(builder.Output())
    return path
