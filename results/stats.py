"""Latency statistics computed from raw samples (seconds in, milliseconds out)."""
from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolation percentile (numpy's default), q in [0, 100]."""
    if not sorted_values:
        return math.nan
    pos = (len(sorted_values) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def latency_stats(samples_s: Sequence[float]) -> dict[str, float | int]:
    """median, mean, stdev, p90, p99, min, max (ms) and n for per-inference times in seconds."""
    ms = sorted(v * 1e3 for v in samples_s)
    n = len(ms)
    if n == 0:
        return {"median": math.nan, "mean": math.nan, "stdev": math.nan, "p90": math.nan, "p99": math.nan,
                "min": math.nan, "max": math.nan, "n": 0}
    return {
        "median": statistics.median(ms),
        "mean": statistics.fmean(ms),
        "stdev": statistics.stdev(ms) if n > 1 else 0.0,
        "p90": percentile(ms, 90),
        "p99": percentile(ms, 99),
        "min": ms[0],
        "max": ms[-1],
        "n": n,
    }
