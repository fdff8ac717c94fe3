"""Measure one (variant, runtime, threads, batch) with pyperf in fresh worker processes, and load-test a variant.

Both run in child processes with a time limit: a crash or hang there becomes a failed record, never ours.
"""
from __future__ import annotations

import json
import os
import shutil
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgebench.benchmarks.isolation.childguard import parse_result
from edgebench.benchmarks.isolation.npzio import read_arrays
from edgebench.benchmarks.isolation.subproc import run_checked
from edgebench.benchmarks.measure.evaluate import OUTPUT_PREFIX
from edgebench.benchmarks.measure.sampling import Sampling
from edgebench.results.record import Latency
from edgebench.results.stability import instability_warnings
from edgebench.results.stats import latency_stats

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


def run_pyperf(bench_name: str, runtime: str, model: str, threads: int, settings: dict[str, Any], inputs_npz: Path,
               workdir: Path, sampling: Sampling, seconds_per_inference: float, timeout: float,
               max_rss_mb: float | None = None, extend: bool = False,
               stop_if: Callable[[Latency], str | None] | None = None) -> tuple[dict[str, Any], Path]:
    """Returns (figures for the record, path of this benchmark's pyperf JSON).

    The worker processes run in batches that append to one pyperf file, until `sampling` says stop; `timeout`
    bounds each batch. The samples go to a partial file first and take the benchmark's own file name only when the
    measurement is complete, so an interrupted measurement never replaces the samples of the record on disk.
    `extend` goes on from the samples already in that file (a second screening round) instead of starting afresh.
    `stop_if`, asked after each batch from the minimum count of processes on, ends a full measurement that cannot
    change the answer: its reason becomes the measurement's reason, its method "stopped-cannot-win".
    """
    safe = bench_name.replace("/", "__")
    out_json, sidecar = workdir / f"{safe}.pyperf.json", workdir / f"{safe}.workers.jsonl"
    part_json, part_sidecar = workdir / f"{safe}.partial.pyperf.json", workdir / f"{safe}.partial.workers.jsonl"
    done, lat = _start(out_json, sidecar, part_json, part_sidecar, extend)
    args = ["-m", "edgebench.benchmarks.measure.worker", "--model", model, "--runtime", runtime, "--threads", str(threads),
            "--inputs", str(inputs_npz), "--settings", json.dumps(settings), "--sidecar", str(part_sidecar),
            "--bench-name", bench_name, "--inherit-environ", INHERIT_ENV, "--quiet", "--append", str(part_json)]
    method: str | None = None
    why: str | None = None
    while method is None:
        batch = sampling.next_batch(done, lat)
        # after the first batch, values per process follow the speed measured so far, not the load test's guess
        # (a model runs several times slower at 2 threads on a busy 2-core machine than in the load test)
        per = lat["median"] / 1e3 if lat and lat["median"] > 0 else seconds_per_inference
        run_checked([*args, *sampling.pyperf_args(per), "--processes", str(batch)], timeout, "benchmark worker",
                    _child_env(), max_rss_mb, MeasureError, output=part_json)
        done += batch
        values, per_process = _samples(part_json)
        lat = latency_stats(values, per_process)
        method = sampling.verdict(done, lat, _medians_ms(per_process))
        if method is None and stop_if is not None and done >= sampling.min_processes and (why := stop_if(lat)):
            method = "stopped-cannot-win"
    part_json.replace(out_json)
    if part_sidecar.exists():
        part_sidecar.replace(sidecar)
    else:
        sidecar.unlink(missing_ok=True)
    fig = summarize(out_json, sidecar)
    fig["measurement"] = sampling.describe(method, done, fig["latency_ms"], _medians_ms(_samples(out_json)[1]))
    if why:
        fig["measurement"]["reason"] = why
    fig["warnings"].extend(sampling.warnings(method, fig["latency_ms"]))
    return fig, out_json


def _start(out_json: Path, sidecar: Path, part_json: Path, part_sidecar: Path,
           extend: bool) -> tuple[int, Latency | None]:
    """Prepare the partial files: empty, or (extend) copies of the finished ones; returns (processes, stats) so far."""
    for p in (part_json, part_sidecar):
        p.unlink(missing_ok=True)
    if not (extend and out_json.is_file()):
        return 0, None
    shutil.copyfile(out_json, part_json)
    if sidecar.is_file():
        shutil.copyfile(sidecar, part_sidecar)
    values, per_process = _samples(part_json)
    return len(per_process), latency_stats(values, per_process)


def _samples(pyperf_json: Path) -> tuple[list[float], list[list[float]]]:
    """(every value, the values of each worker process) of one benchmark's pyperf file, in seconds."""
    import pyperf
    bench = pyperf.Benchmark.load(str(pyperf_json))
    return list(bench.get_values()), [list(run.values) for run in bench.get_runs() if run.values]


def _medians_ms(per_process: list[list[float]]) -> list[float]:
    return [statistics.median(p) * 1e3 for p in per_process]


def summarize(pyperf_json: Path, sidecar: Path) -> dict[str, Any]:
    values, per_process = _samples(pyperf_json)
    workers = [json.loads(ln) for ln in sidecar.read_text().splitlines() if ln.strip()] if sidecar.exists() else []
    lat = latency_stats(values, per_process)
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
               timeout: float, runs: int = 50) -> dict[str, Any]:
    """Run edgebench.benchmarks.measure.opprofile in a child process; returns its summary (operators ranked by share of node time)."""
    run_checked(["-m", "edgebench.benchmarks.measure.opprofile", "--model", model, "--inputs", str(inputs_npz),
                 "--out", str(out_json), "--threads", str(threads), "--settings", json.dumps(settings),
                 "--runs", str(runs)], timeout,
                "operator profiling", _child_env(), error=MeasureError, output=out_json)
    return json.loads(out_json.read_text())
