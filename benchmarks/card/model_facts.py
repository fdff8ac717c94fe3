"""What the static check needs to know about an ONNX file: IR version, opsets, and each node with its types.

Types come from onnx shape inference; a node's schema version comes from the model's opset for its domain, as in
ONNX Runtime, which looks kernels up by (domain, op, schema since-version, types).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgebench.results.errors import UserError, one_line


@dataclass
class NodeFacts:
    domain: str  # "ai.onnx" for the default domain
    op: str
    since: int | None  # the schema version the node resolves to (None: no schema known to onnx, e.g. com.microsoft)
    types: dict[str, str]  # type-constraint name -> element type, e.g. {"T": "float"}
    function: bool = False  # the schema has a function body: ONNX Runtime can expand it when no kernel exists
    names: list[str] = field(default_factory=list)  # node names with this (domain, op, since, types)


@dataclass
class ModelFacts:
    path: Path
    ir_version: int
    opsets: dict[str, int]
    nodes: list[NodeFacts]
    model: Any  # the onnx.ModelProto (for the I/O contract)
    inference_error: str | None = None


def _elem(type_proto: Any) -> str | None:
    import onnx

    which = type_proto.WhichOneof("value")
    if which == "tensor_type":
        if not type_proto.tensor_type.elem_type:
            return None
        return str(onnx.helper.tensor_dtype_to_string(type_proto.tensor_type.elem_type)).replace(
            "TensorProto.", "").lower()
    if which == "sequence_type":
        inner = _elem(type_proto.sequence_type.elem_type)
        return f"seq({inner})" if inner else None
    return None


def _known_types(model: Any) -> dict[str, str]:
    g = model.graph
    out: dict[str, str] = {}
    for vi in [*g.input, *g.output, *g.value_info]:
        t = _elem(vi.type)
        if t:
            out[vi.name] = t
    import onnx

    for init in g.initializer:
        out[init.name] = str(onnx.helper.tensor_dtype_to_string(init.data_type)).replace("TensorProto.", "").lower()
    return out


def _node_types(node: Any, schema: Any, types: dict[str, str]) -> dict[str, str]:
    """Constraint name -> type, from the node's actual inputs/outputs at the schema's formal parameters."""
    found: dict[str, str] = {}
    for formals, actuals in ((schema.inputs, node.input), (schema.outputs, node.output)):
        for i, formal in enumerate(formals):
            # a variadic formal parameter is the last one and takes every remaining actual
            names = actuals[i:] if i == len(formals) - 1 else actuals[i:i + 1]
            for name in names:
                if name and name in types and formal.type_str not in found:
                    found[formal.type_str] = types[name]
    return found


def read_model(path: Path) -> ModelFacts:
    import onnx

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:
        raise UserError(f"{path} is not a readable ONNX model: {one_line(exc, 200)}") from None
    opsets = {(o.domain or "ai.onnx"): o.version for o in model.opset_import}
    error = None
    try:
        inferred = onnx.shape_inference.infer_shapes(model)
    except Exception as exc:  # inference fails on some valid models; kernels are then checked without types
        inferred, error = model, one_line(exc, 200)
    types = _known_types(inferred)
    grouped: dict[tuple[Any, ...], NodeFacts] = {}
    for node in _all_nodes(inferred.graph):
        domain = node.domain or "ai.onnx"
        facts = _facts(node, domain, opsets.get(domain), types)
        key = (facts.domain, facts.op, facts.since, tuple(sorted(facts.types.items())))
        grouped.setdefault(key, facts).names.append(node.name or "")
    return ModelFacts(path, model.ir_version, opsets, list(grouped.values()), model, error)


def _facts(node: Any, domain: str, opset: int | None, types: dict[str, str]) -> NodeFacts:
    import onnx

    try:
        schema = onnx.defs.get_schema(node.op_type, opset or 1, "" if domain == "ai.onnx" else domain)
    except Exception:  # onnx does not know the op (contrib or custom domain): no schema, no types
        return NodeFacts(domain, node.op_type, None, {})
    function = bool(getattr(schema, "has_function", False) or getattr(schema, "has_context_dependent_function", False))
    return NodeFacts(domain, node.op_type, schema.since_version, _node_types(node, schema, types), function)


def _all_nodes(graph: Any) -> list[Any]:
    """Nodes of the graph and of every subgraph (If/Loop/Scan bodies): they need kernels as well."""
    out = []
    for node in graph.node:
        out.append(node)
        for attr in node.attribute:
            if attr.g and attr.g.node:
                out += _all_nodes(attr.g)
            for g in attr.graphs:
                out += _all_nodes(g)
    return out
