"""The figures of one benchmark from its pyperf file and its workers' side file: latency statistics, stability
warnings, cold start and memory (medians over the worker processes)."""
from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

from edgebench.results.stability import instability_warnings
from edgebench.results.stats import latency_stats


def samples(pyperf_json: Path) -> tuple[list[float], list[list[float]]]:
    """(every value, the values of each worker process) of one benchmark's pyperf file, in seconds."""
    import pyperf
    bench = pyperf.Benchmark.load(str(pyperf_json))
    return list(bench.get_values()), [list(run.values) for run in bench.get_runs() if run.values]


def medians_ms(per_process: list[list[float]]) -> list[float]:
    return [statistics.median(p) * 1e3 for p in per_process]


def summarize(pyperf_json: Path, sidecar: Path) -> dict[str, Any]:
    values, per_process = samples(pyperf_json)
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
