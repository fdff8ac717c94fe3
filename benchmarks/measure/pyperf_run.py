"""Measure one (variant, runtime, threads, batch) with pyperf in fresh worker processes, and load-test a variant.

Both run in child processes with a time limit: a crash or hang there becomes a failed record, never ours.
"""
from __future__ import annotations

import json
import os
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgebench.benchmarks.isolation.childguard import parse_result
from edgebench.benchmarks.isolation.npzio import read_arrays
from edgebench.benchmarks.isolation.subproc import run_checked
from edgebench.benchmarks.measure.evaluate import OUTPUT_PREFIX
from edgebench.results.stability import instability_warnings
from edgebench.results.stats import latency_stats

# processes x values (one inference per value, so percentiles are per-inference latencies);
# `budget` is the seconds of timed inferences per process, which sets the value count from the model's speed.
MODES: dict[str, dict[str, float]] = {
    "fast": {"processes": 3, "warmups": 3, "budget": 0.25, "nmin": 10, "nmax": 200},
    "default": {"processes": 10, "warmups": 5, "budget": 1.0, "nmin": 20, "nmax": 500},
    "rigorous": {"processes": 20, "warmups": 10, "budget": 2.0, "nmin": 30, "nmax": 1000},
}
INHERIT_ENV = "PYTHONPATH,EDGEBENCH_FAULT,EDGEBENCH_CACHE,EDGEBENCH_RUN_ID,EDGEBENCH_PARENT_PID,LD_LIBRARY_PATH"


class MeasureError(RuntimeError):
    """A benchmark that could not be measured; the message is one line."""


@dataclass
class Evaluation:
    outputs: list[np.ndarray]
    seconds_per_inference: float
    inputs: list[dict[str, Any]]
    output_specs: list[dict[str, Any]]


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return env


def _parse_marker(stdout: str) -> dict[str, Any]:
    try:
        return parse_result(stdout)
    except LookupError as exc:
        raise MeasureError(str(exc)) from None


def describe(runtime: str, model: str, settings: dict[str, Any], timeout: float,
             max_rss_mb: float | None = None) -> dict[str, Any]:
    res = run_checked(["-m", "edgebench.benchmarks.measure.evaluate", "--runtime", runtime, "--model", model,
                       "--settings", json.dumps(settings), "--describe"], timeout, f"loading the model in {runtime}",
                      _child_env(), max_rss_mb, MeasureError)
    return _parse_marker(res.stdout)


def evaluate(runtime: str, model: str, settings: dict[str, Any], inputs_npz: Path, outputs_npz: Path,
             timeout: float, max_rss_mb: float | None = None) -> Evaluation:
    """Load test + outputs on every evaluation sample, in a child process."""
    res = run_checked(["-m", "edgebench.benchmarks.measure.evaluate", "--runtime", runtime, "--model", model,
                       "--settings", json.dumps(settings), "--inputs", str(inputs_npz), "--outputs", str(outputs_npz)],
                      timeout, f"running the model in {runtime}", _child_env(), max_rss_mb, MeasureError)
    info = _parse_marker(res.stdout)
    outs = read_arrays(outputs_npz, OUTPUT_PREFIX)
    return Evaluation(outs, info["seconds_per_inference"], info["inputs"], info["outputs"])


def pyperf_args(mode: str, seconds_per_inference: float) -> list[str]:
    m = MODES[mode]
    per = max(seconds_per_inference, 1e-6)
    values = int(min(m["nmax"], max(m["nmin"], m["budget"] / per)))
    return ["--processes", str(int(m["processes"])), "--values", str(values), "--warmups", str(int(m["warmups"])),
            "--loops", "1"]


def run_pyperf(bench_name: str, runtime: str, model: str, threads: int, settings: dict[str, Any], inputs_npz: Path,
               workdir: Path, mode: str, seconds_per_inference: float, timeout: float,
               max_rss_mb: float | None = None) -> tuple[dict[str, Any], Path]:
    """Returns (figures for the record, path of this benchmark's pyperf JSON)."""
    safe = bench_name.replace("/", "__")
    out_json = workdir / f"{safe}.pyperf.json"
    sidecar = workdir / f"{safe}.workers.jsonl"
    for p in (out_json, sidecar):
        p.unlink(missing_ok=True)
    args = ["-m", "edgebench.benchmarks.measure.worker", "--model", model, "--runtime", runtime, "--threads", str(threads),
            "--inputs", str(inputs_npz), "--settings", json.dumps(settings), "--sidecar", str(sidecar),
            "--bench-name", bench_name, *pyperf_args(mode, seconds_per_inference), "--inherit-environ", INHERIT_ENV,
            "--quiet", "--output", str(out_json)]
    run_checked(args, timeout, "benchmark worker", _child_env(), max_rss_mb, MeasureError, output=out_json)
    return summarize(out_json, sidecar), out_json


def summarize(pyperf_json: Path, sidecar: Path) -> dict[str, Any]:
    import pyperf

    bench = pyperf.Benchmark.load(str(pyperf_json))
    values = bench.get_values()
    per_process = [run.values for run in bench.get_runs() if run.values]
    workers = [json.loads(ln) for ln in sidecar.read_text().splitlines() if ln.strip()] if sidecar.exists() else []
    lat = latency_stats(values)
    fig: dict[str, Any] = {"latency_ms": lat, "processes": len(per_process),
                           "warnings": instability_warnings(values, per_process)}
    if workers:
        med = statistics.median
        load = med(w["load_ms"] for w in workers)
        first = med(w["first_inference_ms"] for w in workers)
        fig["cold_start_ms"] = load + first
        fig["cold_start"] = {"load_ms": load, "first_inference_ms": first, "n": len(workers)}
        steady = med((w["peak_rss_kb"] - w["rss_after_import_kb"]) / 1024 for w in workers)
        fig["peak_rss_mb"] = steady
        fig["memory"] = {
            "peak_rss_mb": steady,
            "rss_after_import_mb": med(w["rss_after_import_kb"] / 1024 for w in workers),
            "peak_rss_total_mb": med(w["peak_rss_kb"] / 1024 for w in workers),
            "peak_rss_during_load_mb": med((w["peak_rss_load_kb"] - w["rss_after_import_kb"]) / 1024 for w in workers),
            "peak_reset_supported": all(w.get("peak_reset") for w in workers),
        }
    else:
        fig.update(cold_start_ms=None, cold_start=None, peak_rss_mb=None, memory=None)
    return fig


def op_profile(model: str, threads: int, settings: dict[str, Any], inputs_npz: Path, out_json: Path,
               timeout: float) -> dict[str, Any]:
    """Run edgebench.benchmarks.measure.opprofile in a child process; returns its summary (operators ranked by share of node time)."""
    run_checked(["-m", "edgebench.benchmarks.measure.opprofile", "--model", model, "--inputs", str(inputs_npz),
                 "--out", str(out_json), "--threads", str(threads), "--settings", json.dumps(settings)], timeout,
                "operator profiling", _child_env(), error=MeasureError, output=out_json)
    return json.loads(out_json.read_text())
