"""Latency statistics computed from raw samples (seconds in, milliseconds out), with confidence intervals.

The intervals are distribution-free: inference latencies are skewed and multi-modal (scheduler blips, turbo, cache
misses), so a normal-theory interval around the mean would mislead. The interval of a quantile comes from two order
statistics whose ranks follow the binomial distribution of "how many samples fall below the true quantile".
"""
from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

from edgebench.results.record import Latency

CONFIDENCE = 0.95


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolation percentile (numpy's default), q in [0, 100]."""
    if not sorted_values:
        return math.nan
    pos = (len(sorted_values) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def _binomial_cdf(n: int, p: float) -> list[float]:
    """P(B <= k) for k = 0..n, B ~ Binomial(n, p), summed in log space (p**n underflows for the n we see)."""
    log_p, log_q = math.log(p), math.log1p(-p)
    log_n = math.lgamma(n + 1)
    cdf, total = [], 0.0
    for k in range(n + 1):
        total += math.exp(log_n - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * log_p + (n - k) * log_q)
        cdf.append(min(total, 1.0))
    return cdf


def quantile_ci_ranks(n: int, q: float, confidence: float = CONFIDENCE) -> tuple[int, int] | None:
    """1-based ranks (l, u) such that [x_(l), x_(u)] holds the q-quantile (0 < q < 1) with at least `confidence`.

    B, the number of samples below the true quantile, is Binomial(n, q); the interval covers it when l <= B < u.
    Each tail gets at most (1 - confidence) / 2. None when n is too small for that (e.g. a p99 from under 367
    samples has no 95% upper bound): a reader is better served by no interval than by a falsely narrow one.
    """
    if n < 1 or not 0 < q < 1:
        return None
    tail = (1 - confidence) / 2
    cdf = _binomial_cdf(n, q)
    lows = [k for k in range(1, n + 1) if cdf[k - 1] <= tail]
    highs = [k for k in range(1, n + 1) if cdf[k - 1] >= 1 - tail]
    if not lows or not highs:
        return None
    return lows[-1], highs[0]


def quantile_ci(sorted_values: Sequence[float], q: float, confidence: float = CONFIDENCE) -> list[float] | None:
    """[low, high] bounding the q-quantile (0 < q < 1) of the population the sorted samples come from."""
    ranks = quantile_ci_ranks(len(sorted_values), q, confidence)
    if ranks is None:
        return None
    return [sorted_values[ranks[0] - 1], sorted_values[ranks[1] - 1]]


def ci_half_width_pct(lat: Latency) -> float | None:
    """The wider side of the median's CI, in % of the median (the figure early stopping compares with its target)."""
    ci, median = lat.get("median_ci"), lat.get("median")
    if not ci or not median or not math.isfinite(median):
        return None
    return max(median - ci[0], ci[1] - median) / median * 100.0


def latency_stats(samples_s: Sequence[float]) -> Latency:
    """median, mean, stdev, p90, p99, min, max (ms), n, and the 95% CIs of the median and p99 where n allows."""
    ms = sorted(v * 1e3 for v in samples_s)
    n = len(ms)
    if n == 0:
        return Latency(median=math.nan, mean=math.nan, stdev=math.nan, p90=math.nan, p99=math.nan, min=math.nan,
                       max=math.nan, n=0)
    out = Latency(median=statistics.median(ms), mean=statistics.fmean(ms), stdev=statistics.stdev(ms) if n > 1 else 0.0,
                  p90=percentile(ms, 90), p99=percentile(ms, 99), min=ms[0], max=ms[-1], n=n)
    median_ci, p99_ci = quantile_ci(ms, 0.5), quantile_ci(ms, 0.99)
    if median_ci is not None:
        out["median_ci"] = median_ci
    if p99_ci is not None:
        out["p99_ci"] = p99_ci
    return out
