"""The I/O contract of an ONNX model: exact names, element types, shapes with symbolic dims, batch axis, layout,
and what the outputs are; plus what ML.NET needs to know about each (one unknown dim, float16, ':0' names)."""
from __future__ import annotations

from typing import Any

# element types ML.NET's OnnxTransformer maps to a .NET type; others (float16, bfloat16, ...) fail with
# "Unsupported ONNX scalar type"
CLR_TYPES = {"float": "float", "double": "double", "int64": "long", "int32": "int", "int16": "short", "int8": "sbyte",
             "uint8": "byte", "uint16": "ushort", "uint32": "uint", "uint64": "ulong", "bool": "bool",
             "string": "string"}


def _dims(vi: Any) -> list[int | str | None]:
    t = vi.type.tensor_type
    if not t.HasField("shape"):
        return []
    out: list[int | str | None] = []
    for d in t.shape.dim:
        if d.HasField("dim_value"):
            out.append(int(d.dim_value))
        elif d.dim_param:
            out.append(d.dim_param)
        else:
            out.append(None)
    return out


def _layout(shape: list[int | str | None]) -> str | None:
    if len(shape) != 4:
        return None
    c_last, c_first = shape[3], shape[1]
    if isinstance(c_last, int) and c_last in (1, 3, 4) and not (isinstance(c_first, int) and c_first in (1, 3, 4)):
        return "NHWC"
    if isinstance(c_first, int) and c_first in (1, 3, 4):
        return "NCHW"
    return None


def _tensor(vi: Any) -> dict[str, Any]:
    import onnx

    elem = vi.type.tensor_type.elem_type
    dtype = str(onnx.helper.tensor_dtype_to_string(elem)).replace("TensorProto.", "").lower() if elem else "?"
    shape = _dims(vi)
    unknown = [i for i, d in enumerate(shape) if not isinstance(d, int) or d <= 0]
    batch = 0 if shape and (0 in unknown or shape[0] == 1) and len(shape) >= 2 else None
    entry: dict[str, Any] = {"name": vi.name, "dtype": dtype, "shape": shape, "batch_axis": batch,
                             "unknown_dims": unknown, "layout": _layout(shape), "clr_type": CLR_TYPES.get(dtype)}
    # ML.NET fixes an unknown batch dim to 1; any further unknown dim needs shapeDictionary
    entry["needs_shape_dictionary"] = len([i for i in unknown if i != batch]) > 0 and len(unknown) > 1
    entry["ml_shape"] = [1 if i == batch and i in unknown else d for i, d in enumerate(shape)]
    entry["clean_name"] = clean_name(vi.name)
    return entry


def clean_name(name: str) -> str:
    """The name tf2onnx's rename options would give: no ':0' suffix, no 'serving_default_' prefix."""
    out = name[:-2] if name.endswith(":0") else name
    return out[len("serving_default_"):] if out.startswith("serving_default_") else out


def _producer(model: Any, name: str) -> Any:
    return next((n for n in model.graph.node if name in n.output), None)


def _output_kind(model: Any, name: str, dtype: str) -> str:
    node = _producer(model, name)
    seen = 0
    while node is not None and node.op_type in ("Identity", "Reshape", "Squeeze", "Flatten", "Cast") and seen < 8:
        node, seen = _producer(model, node.input[0]), seen + 1
    op = node.op_type if node is not None else None
    if op in ("Softmax", "LogSoftmax"):
        return "probabilities (Softmax)" if op == "Softmax" else "log-probabilities (LogSoftmax)"
    if op == "Sigmoid":
        return "probabilities (Sigmoid)"
    if op == "QuantizeLinear" or dtype in ("uint8", "int8"):
        return "quantized values: real = (q - zero_point) * scale"
    if op in ("Gemm", "MatMul", "Add", "Conv"):
        return "raw scores (logits: apply softmax for probabilities)"
    return f"values produced by {op or 'the graph input'}"


def io_contract(model: Any) -> dict[str, Any]:
    inits = {i.name for i in model.graph.initializer}
    inputs = [dict(_tensor(vi), kind="input") for vi in model.graph.input if vi.name not in inits]
    outputs = [dict(_tensor(vi), kind="output") for vi in model.graph.output]
    for out in outputs:
        out["meaning"] = _output_kind(model, out["name"], out["dtype"])
    renames = {t["name"]: t["clean_name"] for t in inputs + outputs if t["clean_name"] != t["name"]}
    return {"inputs": inputs, "outputs": outputs, "renames": renames}
