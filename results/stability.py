"""Instability checks in the spirit of pyperf's, adapted to single-inference samples.

pyperf warns on stdev > 10% of the mean, on outliers and on raw values too short for the clock. Every edgebench
value is one inference, so a single scheduler blip is a long max by design: outliers are counted with the IQR rule
instead of pyperf's max-vs-mean rule, and the spread between worker processes (a sign of a busy or throttling
machine) is checked as well.
"""
from __future__ import annotations

import statistics
from collections.abc import Sequence

from edgebench.results.stats import percentile

MAX_CV = 0.10            # stdev / mean
MAX_OUTLIER_SHARE = 0.01  # share of samples above Q3 + 3 IQR
MIN_SAMPLE_S = 20e-6      # below this the ~0.1 us cost of reading the clock exceeds 0.5% of a value
MAX_PROCESS_SPREAD = 0.10  # (slowest - fastest) / median of per-process medians
MIN_SAMPLES = 30


def process_spread(medians: Sequence[float]) -> float | None:
    """(slowest - fastest) / median of the worker processes' medians; None with fewer than two processes."""
    if len(medians) < 2:
        return None
    mid = statistics.median(medians)
    return (max(medians) - min(medians)) / mid if mid > 0 else None


def instability_warnings(samples_s: Sequence[float], per_process: Sequence[Sequence[float]] = ()) -> list[str]:
    """Warnings for one benchmark's raw samples (seconds), with the samples of each worker process if known."""
    out: list[str] = []
    n = len(samples_s)
    if n == 0:
        return out
    if n < MIN_SAMPLES:
        out.append(f"only {n} samples")
    mean = statistics.fmean(samples_s)
    if n > 1 and mean > 0:
        cv = statistics.stdev(samples_s) / mean
        if cv > MAX_CV:
            out.append(f"stdev is {cv:.0%} of the mean")
    s = sorted(samples_s)
    q1, q3 = percentile(s, 25), percentile(s, 75)
    fence = q3 + 3 * (q3 - q1)
    share = sum(1 for v in s if v > fence) / n
    if share > MAX_OUTLIER_SHARE:
        out.append(f"{share:.1%} outliers (> Q3 + 3 IQR)")
    if s[0] < MIN_SAMPLE_S:
        out.append(f"shortest sample {s[0] * 1e6:.1f} us is too short to time reliably")
    spread = process_spread([statistics.median(p) for p in per_process if len(p)])
    if spread is not None and spread > MAX_PROCESS_SPREAD:
        out.append(f"worker processes disagree by {spread:.0%}")
    return out
