"""The pyperf program that measures one (model, runtime, threads, batch).

Run as `python -m edgebench.benchmarks.measure.worker ...` by the main process; pyperf re-executes it as fresh worker processes.
A worker imports numpy, pyperf and the one runtime it measures, nothing heavier, so its memory and start-up
figures are the runtime's own. Each worker appends one JSON line (load time, first inference, memory) to --sidecar.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from typing import Any

import pyperf

from edgebench.benchmarks.isolation import procmem

PASS_ON = ("model", "runtime", "threads", "inputs", "settings", "sidecar", "bench_name")


def _add_worker_args(cmd: list[str], args: argparse.Namespace) -> None:
    for key in PASS_ON:
        cmd.extend([f"--{key.replace('_', '-')}", str(getattr(args, key))])


def _fault_hook(stage: str, args: argparse.Namespace) -> None:
    """Fault injection for the reliability tests (EDGEBENCH_FAULT, see edgebench.benchmarks.isolation.faults); workers only."""
    from edgebench.benchmarks.isolation import faults
    faults.inject(stage, [args.runtime, f"t{args.threads}", *args.bench_name.split("/")])


def _fault_delay_s(args: argparse.Namespace) -> float:
    if not os.environ.get("EDGEBENCH_FAULT"):
        return 0.0
    from edgebench.benchmarks.isolation import faults
    return faults.delay_s("run", [args.runtime, f"t{args.threads}", *args.bench_name.split("/")])


def _slowed(invoke: Callable[[], Any], delay: float) -> Callable[[], Any]:
    """`invoke`, or (an injected delay) `invoke` followed by `delay` seconds of busy waiting: sleeping would hand
    the core back and wake late by more than the delay itself."""
    if delay <= 0:
        return invoke
    perf_counter = time.perf_counter

    def slowed() -> Any:
        out = invoke()
        end = perf_counter() + delay
        while perf_counter() < end:
            pass
        return out
    return slowed


def _load(args: argparse.Namespace, record: dict[str, Any]) -> Callable[[int], float]:
    """In a worker process: import the runtime, load the model and run it once, noting the times and memory in
    `record`; returns the function pyperf times."""
    from edgebench.benchmarks.isolation.npzio import read_arrays
    from edgebench.benchmarks.measure.runtimes import import_runtime, open_runtime

    record["rss_start_kb"] = procmem.rss_kb()
    import_runtime(args.runtime)
    record["rss_after_import_kb"] = procmem.rss_kb()
    inputs = read_arrays(args.inputs)
    _fault_hook("load", args)
    t0 = time.perf_counter()
    session = open_runtime(args.runtime, args.model, args.threads, json.loads(args.settings))
    session.prepare(inputs)
    record["load_ms"] = (time.perf_counter() - t0) * 1e3
    t0 = time.perf_counter()
    session.invoke()
    record["first_inference_ms"] = (time.perf_counter() - t0) * 1e3
    record["peak_rss_load_kb"] = procmem.peak_rss_kb()
    record["peak_reset"] = procmem.reset_peak_rss()
    _fault_hook("run", args)
    invoke = _slowed(session.invoke, _fault_delay_s(args))
    perf_counter = time.perf_counter

    def time_func(loops: int) -> float:
        t0 = perf_counter()
        for _ in range(loops):
            invoke()
        return perf_counter() - t0

    return time_func


def _manager_time_func(loops: int) -> float:
    """pyperf's manager process runs no inference: its workers do."""
    return 0.0


def main() -> None:
    runner = pyperf.Runner(program_args=("-m", "edgebench.benchmarks.measure.worker"),
                           add_cmdline_args=_add_worker_args)
    ap = runner.argparser
    ap.add_argument("--model", required=True)
    ap.add_argument("--runtime", required=True, choices=("litert", "onnxruntime"))
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--inputs", required=True, help=".npz with one batch of inputs, arrays arr_0..arr_N in model order")
    ap.add_argument("--settings", default="{}", help="runtime settings as JSON")
    ap.add_argument("--sidecar", required=True)
    ap.add_argument("--bench-name", required=True)
    args = runner.parse_args()

    record: dict[str, Any] = {}
    time_func = _load(args, record) if args.worker else _manager_time_func
    result = runner.bench_time_func(args.bench_name, time_func)
    if args.worker and result is not None:
        record["peak_rss_kb"] = procmem.peak_rss_kb()
        record["pid"] = os.getpid()
        with open(args.sidecar, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    from edgebench.benchmarks.isolation.childguard import run_guarded
    run_guarded(main)
