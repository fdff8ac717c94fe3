"""Run a model file on the target's runtime build: executed by the *target's* Python (aarch64 under qemu).

`python3.11 -I child.py --site DIR --runtime R --model M --settings JSON --inputs IN.npz --outputs OUT.npz`

That interpreter has only the standard library, numpy and the runtimes installed for the target, never edgebench:
the sessions are made by edgebench's own runtime modules (measure/runtimes/ort.py and litert.py, which import only
numpy and their runtime), loaded here by file path, so the target runs each model exactly as the host does. Nothing
is timed: emulated time says nothing about the target's speed. Prints one JSON line starting with RESULT_MARKER.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import types
from pathlib import Path

RESULT_MARKER = "EDGEBENCH_TARGET_RESULT "
OUTPUT_PREFIX = "arr_"  # np.savez names positional arrays arr_0, arr_1, ...: the model's output order


def _runtime_module(runtime: str) -> types.ModuleType:
    name = {"onnxruntime": "ort", "litert": "litert"}.get(runtime)
    if name is None:
        raise ValueError(f"unknown runtime {runtime!r}")
    path = Path(__file__).resolve().parents[1] / "measure" / "runtimes" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_edgebench_target_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    ap = argparse.ArgumentParser()
    for flag in ("--site", "--runtime", "--model", "--inputs", "--outputs"):
        ap.add_argument(flag, required=True)
    ap.add_argument("--settings", default="{}")
    args = ap.parse_args()
    sys.path.insert(0, args.site)  # -I left the target's site-packages out: only the target's wheels are seen
    try:
        _run(args)
    except BaseException as exc:  # one line for the parent; the parent turns it into the failure reason
        print(RESULT_MARKER + json.dumps({"error": f"{type(exc).__name__}: {' '.join(str(exc).split())[:400]}"}),
              flush=True)
        sys.exit(1)


def _run(args: argparse.Namespace) -> None:
    import numpy as np

    module = _runtime_module(args.runtime)
    settings = json.loads(args.settings)
    cls = module.OrtSession if args.runtime == "onnxruntime" else module.LiteRTSession
    session = cls(args.model, 1, settings)
    with np.load(args.inputs, allow_pickle=False) as z:
        inputs = [z[f"arr_{i}"] for i in range(len(z.files))]
    collected = []
    for i in range(len(inputs[0])):
        session.prepare([x[i:i + 1] for x in inputs])
        session.invoke()
        collected.append(session.outputs())
    np.savez(args.outputs, *[np.concatenate([c[k] for c in collected]) for k in range(len(collected[0]))])
    import platform
    versions = {"python": platform.python_version(), "machine": platform.machine(), "numpy": np.__version__}
    if args.runtime == "onnxruntime":
        import onnxruntime
        versions["onnxruntime"] = onnxruntime.__version__
    print(RESULT_MARKER + json.dumps({"samples": len(inputs[0]), "versions": versions}), flush=True)


if __name__ == "__main__":
    main()
