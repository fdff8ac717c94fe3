"""Tiny models for the deployment-card tests, built with onnx.helper, and a TFLite file given metadata the way
tflite-support writes it (a ModelMetadata flatbuffer in a buffer named by the TFLITE_METADATA entry, label files as
a zip appended to the file)."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

from edgebench.benchmarks.card.standins import (  # noqa: F401 (the tests import them from here)
    classifier_onnx,
    conv_onnx,
    fp16_onnx,
    paddle_style_onnx,
    reshape_hw_onnx,
    yolo_head_onnx,
)


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


