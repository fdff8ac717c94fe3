"""Load tests: the model loaded and run in one exact onnxruntime release (an isolated cached environment), its
outputs compared with this machine's onnxruntime on the same inputs."""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from edgebench.benchmarks.card.ortenv import OrtEnvError, env_python

CHILD = Path(__file__).resolve().with_name("loadtest_child.py")
_DTYPES = {"float": "float32", "double": "float64", "float16": "float16", "int64": "int64", "int32": "int32",
           "int8": "int8", "uint8": "uint8", "bool": "bool"}


def make_inputs(inputs: list[dict[str, Any]], path: Path, seed: int = 0) -> None:
    """One sample per input at ML.NET's shape (unknown dims become 1), in the value range of its type."""
    import numpy as np

    rng = np.random.default_rng(seed)
    arrays = {}
    for spec in inputs:
        if spec.get("kind") == "output":
            continue
        shape = [d if isinstance(d, int) and d > 0 else 1 for d in spec["shape"]]
        dtype = _DTYPES.get(spec["dtype"], "float32")
        if dtype.startswith("float"):
            arrays[spec["name"]] = rng.uniform(-1, 1, size=shape).astype(dtype)
        elif dtype == "bool":
            arrays[spec["name"]] = rng.integers(0, 2, size=shape).astype(bool)
        else:
            arrays[spec["name"]] = rng.integers(0, 8, size=shape).astype(dtype)
    np.savez(path, **arrays)  # type: ignore[arg-type]


def _run(python: str, model: Path, inputs: Path, outputs: Path, timeout: float) -> dict[str, Any]:
    proc = subprocess.run([python, str(CHILD), str(model), str(inputs), str(outputs)], capture_output=True,
                          text=True, timeout=timeout, errors="replace")
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        tail = " ".join(proc.stderr.split())[-300:]
        return {"ok": False, "error": f"the load-test process died (exit {proc.returncode}): {tail}"}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def load_test(model: Path, inputs: list[dict[str, Any]], version: str, timeout: float = 300.0) -> dict[str, Any]:
    """{"status": "passed"|"failed"|"unavailable", "detail": one line, "max_abs_diff": ...}."""
    import numpy as np

    try:
        python = str(env_python(version))
    except OrtEnvError as exc:
        return {"status": "unavailable", "detail": f"not load-tested: {exc}"}
    with tempfile.TemporaryDirectory(prefix="edgebench-card-") as tmp:
        t = Path(tmp)
        make_inputs(inputs, t / "in.npz")
        theirs = _run(python, model, t / "in.npz", t / "theirs.npz", timeout)
        if not theirs.get("ok"):
            return {"status": "failed", "detail": f"onnxruntime {version} refused it: {theirs.get('error')}"}
        ours = _run(sys.executable, model, t / "in.npz", t / "ours.npz", timeout)
        if not ours.get("ok"):
            return {"status": "passed", "detail": f"loaded and ran in onnxruntime {version}; this machine's "
                    f"onnxruntime failed ({ours.get('error')}), so outputs were not compared"}
        with np.load(t / "theirs.npz", allow_pickle=False) as a, np.load(t / "ours.npz", allow_pickle=False) as b:
            diffs = [float(np.max(np.abs(a[k].astype("float64") - b[k].astype("float64")))) if a[k].size else 0.0
                     for k in sorted(a.files)]
    worst = max(diffs) if diffs else 0.0
    return {"status": "passed", "max_abs_diff": worst, "host_ort": ours.get("ort_version"),
            "detail": f"loaded and ran in onnxruntime {version}; outputs vs this machine's onnxruntime "
                      f"{ours.get('ort_version')}: max abs diff {worst:.3g}"}
