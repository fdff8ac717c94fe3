"""Load a variant in its runtime in a child process: its input/output specs, and its outputs on every sample.

The accuracy stage compares these outputs with the reference; the mean time per inference is the guess that sizes
the first pyperf batch. The child is `edgebench.benchmarks.measure.evaluate`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgebench.benchmarks.isolation.npzio import read_arrays
from edgebench.benchmarks.isolation.subproc import run_checked
from edgebench.benchmarks.measure.child_call import MeasureError, child_env, parse_marker
from edgebench.benchmarks.measure.evaluate import OUTPUT_PREFIX


@dataclass
class Evaluation:
    outputs: list[np.ndarray]
    seconds_per_inference: float
    inputs: list[dict[str, Any]]
    output_specs: list[dict[str, Any]]


def describe(runtime: str, model: str, settings: dict[str, Any], timeout: float,
             max_rss_mb: float | None = None) -> dict[str, Any]:
    res = run_checked(["-m", "edgebench.benchmarks.measure.evaluate", "--runtime", runtime, "--model", model,
                       "--settings", json.dumps(settings), "--describe"], timeout, f"loading the model in {runtime}",
                      child_env(), max_rss_mb, MeasureError)
    return parse_marker(res.stdout)


def evaluate(runtime: str, model: str, settings: dict[str, Any], inputs_npz: Path, outputs_npz: Path,
             timeout: float, max_rss_mb: float | None = None) -> Evaluation:
    """Load test + outputs on every evaluation sample, in a child process."""
    res = run_checked(["-m", "edgebench.benchmarks.measure.evaluate", "--runtime", runtime, "--model", model,
                       "--settings", json.dumps(settings), "--inputs", str(inputs_npz), "--outputs", str(outputs_npz)],
                      timeout, f"running the model in {runtime}", child_env(), max_rss_mb, MeasureError)
    info = parse_marker(res.stdout)
    outs = read_arrays(outputs_npz, OUTPUT_PREFIX)
    return Evaluation(outs, info["seconds_per_inference"], info["inputs"], info["outputs"])
