"""ONNX Runtime's per-operator profile of one variant, run in a child process (`measure/opprofile.py`).

Profiling slows inference, so it runs apart from the timed pyperf workers and never replaces their figures.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from edgebench.benchmarks.isolation.subproc import run_checked
from edgebench.benchmarks.measure.child_call import MeasureError, child_env


def op_profile(model: str, threads: int, settings: dict[str, Any], inputs_npz: Path, out_json: Path,
               timeout: float, runs: int = 50) -> dict[str, Any]:
    """Run edgebench.benchmarks.measure.opprofile in a child process; returns its summary (operators ranked by share of node time)."""
    run_checked(["-m", "edgebench.benchmarks.measure.opprofile", "--model", model, "--inputs", str(inputs_npz),
                 "--out", str(out_json), "--threads", str(threads), "--settings", json.dumps(settings),
                 "--runs", str(runs)], timeout,
                "operator profiling", child_env(), error=MeasureError, output=out_json)
    return json.loads(out_json.read_text())
