"""Verify a borrowed kernel registry against the real old release: one single-node model per (op, version, type).

onnxruntime 1.10.0 to 1.15.1 do not list their kernels, so their registry starts as 1.16.3's; each probe model is
loaded in the old release (graph optimizations off, so the probe's own node is looked up) and a type whose lookup
fails ("Could not find an implementation") is removed. Probes the old release refuses for another reason (made-up
attribute values, ops onnx has no schema for) leave the borrowed row as it is; the counts go into the data file.
"""
from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

VERIFY = Path(__file__).resolve().with_name("verify_child.py")
_SIMPLE = {"float", "double", "float16", "bfloat16", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
           "uint64", "bool", "string"}


def _elem(t: str) -> int:
    from onnx import TensorProto
    return int(getattr(TensorProto, t.upper()))


def _type_of(type_str: str, chosen: dict[str, str]) -> str | None:
    if type_str in chosen:
        return chosen[type_str] if chosen[type_str] in _SIMPLE else None
    if type_str.startswith("tensor(") and type_str[7:-1] in _SIMPLE:
        return type_str[7:-1]
    return None


def _attr_value(attr: Any) -> Any:
    from onnx import defs, helper
    kinds = defs.OpSchema.AttrType
    return {kinds.INT: 1, kinds.FLOAT: 1.0, kinds.STRING: "a", kinds.INTS: [1], kinds.FLOATS: [1.0],
            kinds.STRINGS: ["a"], kinds.TENSOR: helper.make_tensor("t", 1, [], [0.0])}.get(attr.type)


def probe_model(domain: str, op: str, since: int, chosen: dict[str, str]) -> Any | None:
    """One node of op at opset `since` with type constraints as chosen, or None when no probe can be made."""
    from onnx import TypeProto, defs, helper

    d = "" if domain == "ai.onnx" else domain
    try:
        schema = defs.get_schema(op, since, d)
    except Exception:
        return None
    if schema.since_version != since:
        return None
    ins, outs, vis = [], [], []
    for i, formal in enumerate(schema.inputs):
        if formal.option == defs.OpSchema.FormalParameterOption.Optional:
            break
        t = _type_of(formal.type_str, chosen) if formal.type_str in chosen else _type_of(formal.type_str, {}) or \
            _first_allowed(schema, formal.type_str)
        if t is None:
            return None
        ins.append(f"i{i}")
        vis.append(helper.make_tensor_value_info(f"i{i}", _elem(t), None))
    for i, formal in enumerate(schema.outputs):
        if formal.option == defs.OpSchema.FormalParameterOption.Optional and i > 0:
            break
        outs.append(f"o{i}")
    attrs = {}
    for name, attr in schema.attributes.items():
        if attr.required:
            value = _attr_value(attr)
            if value is None:
                return None
            attrs[name] = value
    node = helper.make_node(op, ins, outs, domain=d, **attrs)
    graph = helper.make_graph([node], "probe", vis, [helper.make_value_info(o, TypeProto()) for o in outs])
    opsets = [helper.make_opsetid(d, since)] + ([helper.make_opsetid("", 13)] if d else [])
    model = helper.make_model(graph, opset_imports=opsets)
    model.ir_version = 7
    return model


def _first_allowed(schema: Any, type_str: str) -> str | None:
    for c in schema.type_constraints:
        if c.type_param_str == type_str:
            simple = [t[7:-1] for t in c.allowed_type_strs if t.startswith("tensor(") and t[7:-1] in _SIMPLE]
            return simple[0] if simple else None
    return None


def _run_probes(python: Path, folder: Path) -> dict[str, str]:
    proc = subprocess.run([str(python), str(VERIFY), str(folder)], capture_output=True, text=True, timeout=1800)
    out: dict[str, str] = json.loads(proc.stdout) if proc.returncode == 0 else {}
    return out


def verify(kernels: dict[str, Any], python: Path, control: Path) -> dict[str, int]:
    """Remove, in place, the types the old release (`python`) has no kernel for; returns the counts. Every probe
    also runs in the release the registry came from (`control`): only a probe that loads there and fails the kernel
    lookup in the old release removes anything, so a badly made probe never does."""
    import onnx

    plan: dict[str, tuple[str, str, int, str, str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for domain in ("ai.onnx", "ai.onnx.ml"):
            for op, rows in kernels.get(domain, {}).items():
                for r, (start, _end, cons) in enumerate(rows):
                    base = {k: next((x for x in v if x in _SIMPLE), v[0]) for k, v in cons.items() if v}
                    for cname, types in cons.items():
                        for t in (x for x in types if x in _SIMPLE):
                            model = probe_model(domain, op, start, dict(base, **{cname: t}))
                            if model is not None:
                                key = f"p{len(plan):05d}"
                                onnx.save(model, str(Path(tmp) / f"{key}.onnx"))
                                plan[key] = (domain, op, r, cname, t)
        results, controls = (_run_probes(py, Path(tmp)) for py in (python, control))
    counts = {"probes": len(plan), "ok": 0, "missing": 0, "unknown": 0}
    for key, (domain, op, r, cname, t) in plan.items():
        status = results.get(key, "unknown")
        if status == "missing" and controls.get(key) != "ok":
            status = "unknown"
        counts[status] += 1
        if status == "missing":
            cons = kernels[domain][op][r][2]
            cons[cname] = [x for x in cons[cname] if x != t]
    for domain in ("ai.onnx", "ai.onnx.ml"):
        for op in list(kernels.get(domain, {})):
            kernels[domain][op] = [row for row in kernels[domain][op] if all(row[2].values()) or not row[2]]
            if not kernels[domain][op]:
                del kernels[domain][op]
    return counts
