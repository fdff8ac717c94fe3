"""An ONNX graph made static before onnx2tf sees it: the converter fails on symbolic dims handed to it as overrides.

Paddle2ONNX writes unknown dims as `dim_value = -1` or as empty dims, PyTorch names them (`batch`) and may write an
expression as an output dim; onnx2tf 1.28.8 dies on `-1` in its Input op and converts reshapes computed from `Shape`
into files that fail at run time. Setting the dims *in the graph*, dropping every stale shape (output dims,
value_info), inferring shapes again and letting onnxsim fold what became constant converts those models (measured
here: max abs 1e-7..1e-5 against ONNX Runtime).
"""
from __future__ import annotations

import re
from typing import Any

from edgebench.results.errors import one_line


def safe_name(name: str) -> str:
    """A name onnx2tf and TensorFlow take: onnx2tf splits NAME:D0,D1 at ':' (tf2onnx names inputs `x:0`) and
    TensorFlow refuses scope names such as `Softmax@0`."""
    safe = re.sub(r"\W", "_", name)
    return safe if safe[:1].isalpha() else f"i_{safe}"


BATCH = "batch"  # the one name every symbolic batch axis gets, so shape inference knows they are equal


def _set_dims(value_info: Any, shape: list[int], batch_axis: int | None = None) -> bool:
    """Set the dims; the batch axis stays symbolic when the source left it open (a source that fixed it runs only
    that batch anyway). Returns whether it did."""
    dims = value_info.type.tensor_type.shape.dim
    open_batch = (batch_axis is not None and 0 <= batch_axis < len(dims) == len(shape)
                  and not (dims[batch_axis].HasField("dim_value") and dims[batch_axis].dim_value > 0))
    del dims[:]
    for d in shape:
        dims.add().dim_value = int(d)
    if open_batch:
        assert batch_axis is not None
        dims[batch_axis].dim_param = BATCH
    return open_batch


def _clear_dims(value_info: Any) -> None:
    """Keep the rank, forget the sizes: shape inference recomputes them from the now static inputs."""
    t = value_info.type.tensor_type
    if t.HasField("shape"):
        rank = len(t.shape.dim)
        del t.shape.dim[:]
        for _ in range(rank):
            t.shape.dim.add()


def _rename(model: Any) -> dict[str, str]:
    """Node names TensorFlow takes, inputs named safely; returns {old input name: new}."""
    graph = model.graph
    for i, node in enumerate(graph.node):
        node.name = f"node{i}_{node.op_type}"
    weights = {t.name for t in graph.initializer}
    renamed = {i.name: safe_name(i.name) for i in graph.input if i.name not in weights}
    for vi in graph.input:
        vi.name = renamed.get(vi.name, vi.name)
    for node in graph.node:
        node.input[:] = [renamed.get(n, n) for n in node.input]
    return renamed


def make_static(model: Any, input_shapes: dict[str, list[int]],
                batch_axes: dict[str, int] | None = None) -> tuple[Any, list[str]]:
    """(the model with every input dim set from `input_shapes` (keyed by the original or the safe input name),
    shapes inferred, simplified and names made safe; notes for the record). An input named in `batch_axes` keeps
    that axis symbolic if the source left it open, so the converted file still runs other batch sizes. Raises
    ValueError naming an input whose dims stay unknown."""
    import onnx

    graph = model.graph
    weights = {t.name for t in graph.initializer}
    by_safe = {safe_name(k): v for k, v in input_shapes.items()}
    axes = {safe_name(k): v for k, v in (batch_axes or {}).items()}
    kept_open: list[str] = []
    for vi in graph.input:
        if vi.name in weights:
            continue
        shape = input_shapes.get(vi.name, by_safe.get(safe_name(vi.name)))
        dims = vi.type.tensor_type.shape.dim
        if shape is None:
            if any(not d.HasField("dim_value") or d.dim_value < 0 for d in dims):
                raise ValueError(f"input {vi.name!r} has symbolic dims and no shape was given for it")
            continue
        if _set_dims(vi, shape, axes.get(safe_name(vi.name))):
            kept_open.append(vi.name)
    for vi in graph.output:
        _clear_dims(vi)
    del graph.value_info[:]
    _rename(model)
    notes = ["input dims set in the graph" + (f" (batch axis kept symbolic: {', '.join(kept_open)})" if kept_open
                                              else "") + ", output dims and value_info cleared, shapes inferred"]
    try:
        model = onnx.shape_inference.infer_shapes(model, data_prop=True)
    except Exception as exc:  # onnxsim infers again below; onnx2tf copes with missing intermediate shapes
        notes.append(f"ONNX shape inference failed ({one_line(exc, 120)})")
    try:
        import onnxsim
        simplified, ok = onnxsim.simplify(model)
        if ok:
            model = simplified
            notes.append("simplified with onnxsim")
    except Exception as exc:  # an unsimplified graph often converts: say so, go on
        notes.append(f"onnxsim failed ({one_line(exc, 120)}); converted unsimplified")
    return model, notes
