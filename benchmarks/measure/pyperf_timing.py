"""Time one (variant, runtime, threads, batch) with pyperf in fresh worker processes, batch after batch, until the
sampling rule says stop.

The workers run as child processes with a time limit: a crash or hang there becomes a failed record, never ours.
"""
from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edgebench.benchmarks.isolation.subproc import run_checked
from edgebench.benchmarks.measure.child_call import MeasureError, child_env
from edgebench.benchmarks.measure.pyperf_summary import medians_ms, samples, summarize
from edgebench.benchmarks.measure.sampling import Sampling
from edgebench.results.record import Latency, Method
from edgebench.results.stats import latency_stats

INHERIT_ENV = "PYTHONPATH,EDGEBENCH_FAULT,EDGEBENCH_CACHE,EDGEBENCH_RUN_ID,EDGEBENCH_PARENT_PID,LD_LIBRARY_PATH"


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
    method: Method | None = None
    why: str | None = None
    while method is None:
        batch = sampling.next_batch(done, lat)
        # after the first batch, values per process follow the speed measured so far, not the load test's guess
        # (a model runs several times slower at 2 threads on a busy 2-core machine than in the load test)
        per = lat["median"] / 1e3 if lat and lat["median"] > 0 else seconds_per_inference
        run_checked([*args, *sampling.pyperf_args(per), "--processes", str(batch)], timeout, "benchmark worker",
                    child_env(), max_rss_mb, MeasureError, output=part_json)
        done += batch
        values, per_process = samples(part_json)
        lat = latency_stats(values, per_process)
        method = sampling.verdict(done, lat, medians_ms(per_process))
        if method is None and stop_if is not None and done >= sampling.min_processes and (why := stop_if(lat)):
            method = "stopped-cannot-win"
    part_json.replace(out_json)
    if part_sidecar.exists():
        part_sidecar.replace(sidecar)
    else:
        sidecar.unlink(missing_ok=True)
    fig = summarize(out_json, sidecar)
    fig["measurement"] = sampling.describe(method, done, fig["latency_ms"], medians_ms(samples(out_json)[1]))
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
    values, per_process = samples(part_json)
    return len(per_process), latency_stats(values, per_process)
