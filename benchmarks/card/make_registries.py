"""Regenerate the shipped kernel registries: `python -m edgebench.benchmarks.card.make_registries [VERSION ...]`.

For each onnxruntime version (default: every version an ML.NET release pins, 4.0-preview1's, and this machine's), an
isolated environment with that exact release from the package index (ortenv), then that release's own
get_all_opkernel_def() for the CPU provider, its operator schemas' opsets, and the highest IR version and ai.onnx
opset whose probe model it loads, written gzipped to data/ort-<version>.json.gz. The static check then needs no network.
"""
from __future__ import annotations

import gzip
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from edgebench.benchmarks.card.ortenv import env_python
from edgebench.benchmarks.card.registry import DATA_DIR, REGISTRY_FORMAT
from edgebench.benchmarks.card.releases import SHIPPED_VERSIONS

DUMP = Path(__file__).with_name("dump_child.py")


def write_probes(folder: Path) -> None:
    """Identity models at IR 3..20 (opset 7) and at ai.onnx opsets 7..30 (IR 7): which load is the limit."""
    import onnx
    from onnx import TensorProto, helper

    def model(ir: int, opset: int) -> onnx.ModelProto:
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])
        graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "probe", [x], [y])
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
        m.ir_version = ir
        return m

    for ir in range(3, 21):
        onnx.save(model(ir, 7), str(folder / f"ir{ir}.onnx"))
    for opset in range(7, 31):
        onnx.save(model(7, opset), str(folder / f"opset{opset}.onnx"))


# the oldest release whose wheel exposes get_all_opkernel_def() (1.10.0 to 1.15.1 do not: checked one by one)
_KERNEL_STAND_INS = ["1.16.3"]


def _borrow_kernels(doc: dict) -> None:
    """Kernels of the oldest later release that lists them, cut to the opsets this release loads; said in source."""
    for later in _KERNEL_STAND_INS:
        if tuple(map(int, later.split("."))) <= tuple(map(int, doc["ort_version"].split("."))):
            continue
        other = json.loads(json.dumps(dump(later)))  # a copy: the stand-in's own document stays intact
        if other["kernels"] is None:
            continue
        limit = doc["max_opset"]["ai.onnx"]
        doc["kernels"] = {d: {op: [r for r in rows if d != "ai.onnx" or r[0] <= limit] for op, rows in ops.items()}
                          for d, ops in other["kernels"].items()}
        from edgebench.benchmarks.card.kernel_probes import verify
        doc["kernels_verified"] = verify(doc["kernels"], env_python(doc["ort_version"]), env_python(later))
        doc["kernels_from"] = later
        doc["max_opset"] = dict(other["max_opset"], **{"ai.onnx": limit})
        doc["source"] += (f"; onnxruntime {doc['ort_version']} does not expose get_all_opkernel_def(), so kernels "
                          f"and non-default domain opsets are {later}'s (the oldest release that does), cut to "
                          f"ai.onnx opset {limit}; IR and ai.onnx opset limits are {doc['ort_version']}'s own (probed). A "
                          f"kernel or type added between {doc['ort_version']} and {later} is removed where a single-node probe "
                          f"model shows the old release lacks it ({doc['kernels_verified']}); where no probe could "
                          "be made it would pass here: --load-test checks the real release")
        return
    raise RuntimeError(f"no release in {_KERNEL_STAND_INS} lists its kernels")


_DUMPED: dict[str, dict] = {}


def dump(version: str) -> dict:
    if version in _DUMPED:
        return _DUMPED[version]
    py = env_python(version)
    with tempfile.TemporaryDirectory() as tmp:
        write_probes(Path(tmp))
        out = subprocess.run([str(py), str(DUMP), tmp], capture_output=True, text=True, timeout=600, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"dumping onnxruntime {version} failed: {out.stderr.strip()[-500:]}")
    doc = json.loads(out.stdout)
    if doc["ort_version"] != version:
        raise RuntimeError(f"asked for onnxruntime {version}, the environment has {doc['ort_version']}")
    doc["format"] = REGISTRY_FORMAT
    doc["source"] = (f"onnxruntime=={version} wheel for CPython {doc['python']} from the package index: "
                     "get_all_opkernel_def() (CPUExecutionProvider), get_all_operator_schema(), probe models")
    if doc["kernels"] is None:
        _borrow_kernels(doc)
    from edgebench.benchmarks.card.resolved_probes import probe
    doc["resolved_before_kernels"] = probe(py, doc)  # Constant, function bodies: loaded without a kernel
    _DUMPED[version] = doc
    return doc


def main(argv: list[str]) -> int:
    import onnxruntime

    versions = argv or [*SHIPPED_VERSIONS, onnxruntime.__version__]
    DATA_DIR.mkdir(exist_ok=True)
    for version in dict.fromkeys(versions):
        doc = dump(version)
        path = DATA_DIR / f"ort-{version}.json.gz"
        # mtime=0: regenerating unchanged data gives byte-identical files (no noise in git)
        with gzip.GzipFile(path, "wb", mtime=0) as fh:
            fh.write(json.dumps(doc, separators=(",", ":"), sort_keys=True).encode())
        n = sum(len(rows) for ops in doc["kernels"].values() for rows in ops.values())
        print(f"onnxruntime {version} (CPython {doc['python']}): {n} CPU kernels, max IR {doc['max_ir_version']}, "
              f"max ai.onnx opset {doc['max_opset']['ai.onnx']} -> {path.name} ({path.stat().st_size // 1024} kB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
