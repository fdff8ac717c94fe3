"""Safe loading of untrusted ONNX files: parse errors become one line; external data may not leave the model's folder."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import onnx


def _graph_tensors(graph: onnx.GraphProto) -> Iterator[onnx.TensorProto]:
    """Every TensorProto of a graph and its subgraphs, sparse ones included (ONNX Runtime reads external data for
    those too, and onnx's own helper skips them)."""
    yield from graph.initializer
    for sparse in graph.sparse_initializer:
        yield sparse.values
        yield sparse.indices
    for node in graph.node:
        yield from _node_tensors(node)


def _node_tensors(node: onnx.NodeProto) -> Iterator[onnx.TensorProto]:
    for attr in node.attribute:
        if attr.HasField("t"):
            yield attr.t
        yield from attr.tensors
        if attr.HasField("sparse_tensor"):
            yield attr.sparse_tensor.values
            yield attr.sparse_tensor.indices
        for sparse in attr.sparse_tensors:
            yield sparse.values
            yield sparse.indices
        if attr.HasField("g"):
            yield from _graph_tensors(attr.g)
        for g in attr.graphs:
            yield from _graph_tensors(g)


def external_data_locations(model: onnx.ModelProto) -> list[str]:
    """Every external-data location the model names, whether or not the tensor claims to be external."""
    tensors = list(_graph_tensors(model.graph))
    for fn in model.functions:
        for node in fn.node:
            tensors.extend(_node_tensors(node))
    return [entry.value for t in tensors for entry in t.external_data if entry.key == "location"]


def check_onnx_file(path: str | Path) -> None:
    """Parse the graph without its external data, then refuse any external data path outside the model's folder."""
    import onnx

    from edgebench.results.errors import UserError, one_line

    p = Path(path)
    try:
        model = onnx.load(str(p), load_external_data=False)
    except Exception as exc:
        raise UserError(f"{p} is not a valid ONNX model: {one_line(exc, 200)}") from None
    if not model.graph.node and not model.graph.output:
        raise UserError(f"{p} is not a valid ONNX model: the graph is empty")
    root = p.resolve().parent
    for loc in external_data_locations(model):
        try:
            target = (root / loc).resolve()
        except (ValueError, OSError):  # a NUL byte or an impossible name: nothing sane to read
            raise UserError(f"{p} refers to external data at an invalid path ({loc[:80]!r}); refused") from None
        if Path(loc).is_absolute() or not target.is_relative_to(root):
            raise UserError(f"{p} refers to external data outside its own folder ({loc!r}); refused, nothing was read")
        if not target.is_file():
            raise UserError(f"{p} refers to missing external data file {loc!r}")
