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


def make_inputs(inputs: list[dict[str, Any]], path: Path, seed: int = 0,
                shapes: dict[str, dict[str, Any]] | None = None, data: dict[str, Any] | None = None) -> None:
    """One sample per input: the --data array, else random values at the card's chosen shape (card.shapes), else at
    ML.NET's shape with unknown dims as 1 (only for inputs the card chose nothing for), in the type's range."""
    import numpy as np

    rng = np.random.default_rng(seed)
    arrays = {}
    for spec in inputs:
        if spec.get("kind") == "output":
            continue
        if data and spec["name"] in data:
            arrays[spec["name"]] = data[spec["name"]]
            continue
        chosen = (shapes or {}).get(spec["name"])
        shape = chosen["shape"] if chosen else [d if isinstance(d, int) and d > 0 else 1 for d in spec["shape"]]
        dtype = _DTYPES.get(spec["dtype"], "float32")
        if dtype.startswith("float"):
            arrays[spec["name"]] = rng.uniform(-1, 1, size=shape).astype(dtype)
        elif dtype == "bool":
            arrays[spec["name"]] = rng.integers(0, 2, size=shape).astype(bool)
        else:
            arrays[spec["name"]] = rng.integers(0, 8, size=shape).astype(dtype)
    np.savez(path, **arrays)


def _run(python: str, model: Path, inputs: Path, outputs: Path, timeout: float) -> dict[str, Any]:
    try:
        proc = subprocess.run([python, str(CHILD), str(model), str(inputs), str(outputs)], capture_output=True,
                              text=True, timeout=timeout, errors="replace")
    except subprocess.TimeoutExpired:
        return {"ok": False, "stage": "run", "error": f"no answer within {timeout:.0f} s"}
    lines = [json.loads(ln) for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if not lines or "ok" not in lines[-1]:
        tail = " ".join(proc.stderr.split())[-300:]
        stage = "run" if lines else "load"  # {"stage": "loaded"} came first: it died running, not loading
        return {"ok": False, "stage": stage, "error": f"the process died (exit {proc.returncode}) while "
                f"{'running' if lines else 'loading'} it{': ' + tail if tail else ''}"}
    result: dict[str, Any] = lines[-1]
    return result


def _shapes_text(path: Path) -> str:
    import numpy as np

    with np.load(path, allow_pickle=False) as z:
        return ", ".join(f"{k}={list(z[k].shape)}" for k in z.files)


def load_test(model: Path, inputs: list[dict[str, Any]], version: str, timeout: float = 300.0,
              shapes: dict[str, dict[str, Any]] | None = None, data: dict[str, Any] | None = None,
              progress: Any = None) -> dict[str, Any]:
    """{"status": "passed"|"failed"|"loaded"|"unavailable", "detail": one line, "max_abs_diff": ...}. "loaded":
    the release loads the model, and running it on the card's inputs fails in this machine's onnxruntime too (the
    inputs are at fault, not the release)."""
    try:
        python = str(env_python(version, progress))
    except OrtEnvError as exc:
        return {"status": "unavailable", "detail": f"not load-tested: {exc}"}
    with tempfile.TemporaryDirectory(prefix="edgebench-card-") as tmp:
        t = Path(tmp)
        make_inputs(inputs, t / "in.npz", shapes=shapes, data=data)
        theirs = _run(python, model, t / "in.npz", t / "theirs.npz", timeout)
        if not theirs.get("ok") and theirs.get("stage") == "load":
            return {"status": "failed", "detail": f"onnxruntime {version} refused it: {theirs.get('error')}"}
        ours = _run(sys.executable, model, t / "in.npz", t / "ours.npz", timeout)
        if not theirs.get("ok"):
            return _run_failed(version, theirs, ours, _shapes_text(t / "in.npz"))
        if not ours.get("ok"):
            return {"status": "passed", "detail": f"loaded and ran in onnxruntime {version}; this machine's "
                    f"onnxruntime failed ({ours.get('error')}), so outputs were not compared"}
        worst = _max_diff(t / "theirs.npz", t / "ours.npz")
    return {"status": "passed", "max_abs_diff": worst, "host_ort": ours.get("ort_version"),
            "detail": f"loaded and ran in onnxruntime {version}; outputs vs this machine's onnxruntime "
                      f"{ours.get('ort_version')}: max abs diff {worst:.3g}"}


def _run_failed(version: str, theirs: dict[str, Any], ours: dict[str, Any], shapes: str) -> dict[str, Any]:
    if ours.get("ok"):  # this machine's onnxruntime runs the same inputs: the release itself fails
        return {"status": "failed", "detail": f"onnxruntime {version} loads it but fails to run it on {shapes}, "
                f"which onnxruntime {ours.get('ort_version')} runs: {theirs.get('error')}"}
    return {"status": "loaded", "detail": f"loaded in onnxruntime {version}; running it on {shapes} failed here "
            f"and in this machine's onnxruntime too ({theirs.get('error')}): the inputs do not fit the model, "
            "pass --input-shape or --data"}


def _max_diff(a_path: Path, b_path: Path) -> float:
    import numpy as np

    with np.load(a_path, allow_pickle=False) as a, np.load(b_path, allow_pickle=False) as b:
        diffs = [float(np.max(np.abs(a[k].astype("float64") - b[k].astype("float64")))) if a[k].size else 0.0
                 for k in sorted(a.files)]
    return max(diffs) if diffs else 0.0


# per process: a release without a wheel here, or an index that cannot be reached, is asked about once, not once
# per variant and row (an unreachable index costs pip's timeout each time)
_UNAVAILABLE: dict[str, dict[str, Any]] = {}


def load_test_once(model: Path, inputs: list[dict[str, Any]], version: str,
                   shapes: dict[str, dict[str, Any]] | None = None, data: dict[str, Any] | None = None,
                   progress: Any = None) -> dict[str, Any]:
    """load_test, remembering unavailable releases (and an unreachable index for every release not cached)."""
    from edgebench.benchmarks.card.ortenv import cached_python

    known = _UNAVAILABLE.get(version) or (_UNAVAILABLE.get("*") if cached_python(version) is None else None)
    if known:
        return known
    if progress:
        progress(f"load test in onnxruntime {version}")
    lt = load_test(model, inputs, version, shapes=shapes, data=data, progress=progress)
    if lt["status"] == "unavailable":
        _UNAVAILABLE["*" if "cannot be reached" in lt["detail"] else version] = lt
    return lt
