"""Ops a release serves without a CPU kernel, found by loading single-node probe models in the real release.

ONNX Runtime resolves some nodes before any kernel lookup: its Graph constructor turns every ai.onnx `Constant` into
an initializer (onnxruntime/core/graph/graph.cc), and a node whose schema has a function body (or a
context-dependent one) is expanded into ops that do have kernels, in the releases whose function support covers it.
The kernel registry cannot show either, so for each (domain, op, since-version) the registry has no kernel for, a
probe model is loaded (graph optimizations off): "ok" means the release resolves it before kernels, "missing" that
it really has no kernel. The result goes into the registry data as "resolved" / "no_kernel" with the probe counts;
`python -m edgebench.benchmarks.card.resolved_probes [VERSION ...]` adds it to the shipped files.
"""
from __future__ import annotations

import gzip
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from edgebench.benchmarks.card.kernel_probes import VERIFY, probe_model
from edgebench.benchmarks.card.registry import DATA_DIR

# What ONNX Runtime's graph.cc does for every release shipped here; the probes confirm it per release, and a
# registry without probe data falls back to it.
RESOLVED_BY_GRAPH = {("ai.onnx", "Constant")}
_DOMAINS = ("ai.onnx", "ai.onnx.ml")


def _served(rows: list[list[Any]], since: int) -> bool:
    return any(r[0] == since or (r[0] < since and r[1] is not None and r[1] >= since) for r in rows)


def candidates(registry: dict[str, Any]) -> list[tuple[str, str, int]]:
    """(domain, op, since) of every onnx schema version up to the release's opsets that no kernel row serves."""
    from onnx import defs

    limits: dict[str, int] = registry.get("max_opset", {})
    kernels: dict[str, dict[str, list[list[Any]]]] = registry.get("kernels", {})
    out = []
    for schema in defs.get_all_schemas_with_history():
        domain = schema.domain or "ai.onnx"
        if domain not in _DOMAINS or schema.deprecated or schema.since_version > limits.get(domain, 0):
            continue
        if not _served(kernels.get(domain, {}).get(schema.name, []), schema.since_version):
            out.append((domain, schema.name, schema.since_version))
    return sorted(set(out))


def _chosen(domain: str, op: str, since: int) -> dict[str, str]:
    """float where a type constraint admits it (the type every function body's ops have kernels for)."""
    from onnx import defs

    schema = defs.get_schema(op, since, "" if domain == "ai.onnx" else domain)
    out = {}
    for c in schema.type_constraints:
        if "tensor(float)" in c.allowed_type_strs:
            out[c.type_param_str] = "float"
    return out


def _probe(domain: str, op: str, since: int) -> Any | None:
    from onnx import TensorProto, helper

    if (domain, op) == ("ai.onnx", "Constant"):  # its value is an attribute the generic probe cannot guess
        node = helper.make_node("Constant", [], ["o0"], value=helper.make_tensor("v", TensorProto.FLOAT, [2], [1, 2]))
        out = helper.make_tensor_value_info("o0", TensorProto.FLOAT, [2])
        model = helper.make_model(helper.make_graph([node], "probe", [], [out]),
                                  opset_imports=[helper.make_opsetid("", since)])
        model.ir_version = 7
        return model
    return probe_model(domain, op, since, _chosen(domain, op, since))


def probe(python: Path, registry: dict[str, Any]) -> dict[str, Any]:
    """{"resolved": {domain: {op: [since, ...]}}, "no_kernel": {...}, "counts": {...}} for the release at `python`."""
    import onnx

    plan: dict[str, tuple[str, str, int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for domain, op, since in candidates(registry):
            model = _probe(domain, op, since)
            if model is not None:
                key = f"r{len(plan):04d}"
                onnx.save(model, str(Path(tmp) / f"{key}.onnx"))
                plan[key] = (domain, op, since)
        proc = subprocess.run([str(python), str(VERIFY), tmp], capture_output=True, text=True, timeout=1800)
    results: dict[str, str] = json.loads(proc.stdout) if proc.returncode == 0 else {}
    doc: dict[str, Any] = {"resolved": {}, "no_kernel": {}, "counts": {"probes": len(plan), "ok": 0, "missing": 0,
                                                                         "unknown": 0}}
    for key, (domain, op, since) in plan.items():
        status = results.get(key, "unknown")
        doc["counts"][status] += 1
        if status != "unknown":
            bucket = doc["resolved" if status == "ok" else "no_kernel"]
            bucket.setdefault(domain, {}).setdefault(op, []).append(since)
    return doc


def main(argv: list[str]) -> int:
    from edgebench.benchmarks.card.ortenv import env_python
    from edgebench.benchmarks.card.registry import shipped_versions

    for version in argv or shipped_versions():
        path = DATA_DIR / f"ort-{version}.json.gz"
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            doc = json.load(fh)
        import onnxruntime  # this machine's release needs no environment of its own
        found = probe(Path(sys.executable) if version == onnxruntime.__version__ else env_python(version), doc)
        doc["resolved_before_kernels"] = found
        with gzip.GzipFile(path, "wb", mtime=0) as fh:  # mtime=0: same data, same bytes
            fh.write(json.dumps(doc, separators=(",", ":"), sort_keys=True).encode())
        names = sorted(f"{op}-{v}" for ops in found["resolved"].values() for op, vs in ops.items() for v in vs)
        print(f"onnxruntime {version}: {found['counts']}; resolved without a kernel: {', '.join(names) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
