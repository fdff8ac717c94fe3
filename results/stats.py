"""Latency statistics computed from raw samples (seconds in, milliseconds out), with confidence intervals.

The intervals are distribution-free: inference latencies are skewed and multi-modal (scheduler blips, turbo, cache
misses), so a normal-theory interval around the mean would mislead. The interval of a quantile comes from two order
statistics whose ranks follow the binomial distribution of "how many samples fall below the true quantile".

That binomial holds when every sample is independent. Samples of one worker process are not: they share its moment
on the machine (a neighbour's burst, a frequency change, where its memory landed), and on a shared 2-core VM whole
processes ran 10-30% apart while their pooled CI said +/-0.5%. So when the samples come from 3 or more processes,
the spread of the rank is also estimated from the processes themselves (the fraction of each process's samples below
the pooled quantile, a clustered-sample estimate with Student's t for the few processes), and the interval is the
wider of the two. With agreeing processes it stays the binomial one; with disagreeing ones it says so.
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


def t_quantile(p: float, df: int) -> float:
    """Student's t quantile (Cornish-Fisher expansion around the normal one: within 1% of the exact value for df >= 2)."""
    z = statistics.NormalDist().inv_cdf(p)
    terms = ((z**3 + z) / 4, (5 * z**5 + 16 * z**3 + 3 * z) / 96, (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384,
             (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160)
    return z + sum(g / df ** (i + 1) for i, g in enumerate(terms))


def between_group_half_width(sorted_values: Sequence[float], q: float, groups: Sequence[Sequence[float]],
                             confidence: float = CONFIDENCE) -> float | None:
    """Half-width, in quantile units (0..1), of the CI of the share of samples below the pooled q-quantile, estimated
    from how that share varies between groups (worker processes); None with fewer than 3 groups, too few to say."""
    groups = [g for g in groups if len(g)]
    k = len(groups)
    if k < 3:
        return None
    x = percentile(sorted_values, q * 100)
    sizes = [len(g) for g in groups]
    shares = [(sum(v < x for v in g) + 0.5 * sum(v == x for v in g)) / len(g) for g in groups]
    total = sum(sizes)
    mean = sum(m * f for m, f in zip(sizes, shares)) / total
    # the variance of a ratio estimator over k clusters of unequal size (equal sizes: stdev(shares)^2 / k)
    var = k / (k - 1) * sum((m * (f - mean)) ** 2 for m, f in zip(sizes, shares)) / total**2
    return t_quantile(1 - (1 - confidence) / 2, k - 1) * math.sqrt(var)


MEDIANS_BOUND_FROM = 6  # processes from which [min, max] of their medians is a >= 95% interval (1 - 2 * 0.5^6)


def quantile_ci(sorted_values: Sequence[float], q: float, confidence: float = CONFIDENCE,
                groups: Sequence[Sequence[float]] = ()) -> list[float] | None:
    """[low, high] bounding the q-quantile (0 < q < 1) of the population the sorted samples come from; `groups`,
    the same samples by worker process, widen it to how much the processes disagree."""
    ranks = quantile_ci_ranks(len(sorted_values), q, confidence)
    if ranks is None:
        return None
    low, high = ranks
    binomial = [sorted_values[low - 1], sorted_values[high - 1]]
    half = between_group_half_width(sorted_values, q, groups, confidence)
    if half is None:
        return binomial
    n = len(sorted_values)
    low = max(1, min(low, math.floor(n * (q - half))))
    high = min(n, max(high, math.ceil(n * (q + half)) + 1))
    widened = [sorted_values[low - 1], sorted_values[high - 1]]
    medians = [statistics.median(g) for g in groups if len(g)]
    if q == 0.5 and len(medians) >= MEDIANS_BOUND_FROM:
        # When processes fall into two speeds (a 2-vCPU VM whose host moves it), the shares below the pooled median
        # are near 0 or 1 and the rank interval reaches into the tail (seen: 1.19-5.66 ms around 1.91 ms from
        # processes at 1.51-2.24 ms). The process medians' own range already holds the median of process medians
        # with 1 - 2 * 0.5^k >= 96.9% (the sign test), so the widening stops there; never below the binomial interval.
        widened = [max(widened[0], min(binomial[0], min(medians))), min(widened[1], max(binomial[1], max(medians)))]
    return widened


def ci_half_width_pct(lat: Latency) -> float | None:
    """The wider side of the median's CI, in % of the median (the figure early stopping compares with its target)."""
    ci, median = lat.get("median_ci"), lat.get("median")
    if not ci or not median or not math.isfinite(median):
        return None
    return max(median - ci[0], ci[1] - median) / median * 100.0


def latency_stats(samples_s: Sequence[float], per_process_s: Sequence[Sequence[float]] = ()) -> Latency:
    """median, mean, stdev, p90, p99, min, max (ms), n, and the 95% CIs of the median and p99 where n allows;
    `per_process_s`, the same samples by worker process, lets the CIs include how much the processes disagree."""
    ms = sorted(v * 1e3 for v in samples_s)
    groups = [[v * 1e3 for v in p] for p in per_process_s]
    n = len(ms)
    if n == 0:
        return Latency(median=math.nan, mean=math.nan, stdev=math.nan, p90=math.nan, p99=math.nan, min=math.nan,
                       max=math.nan, n=0)
    out = Latency(median=statistics.median(ms), mean=statistics.fmean(ms), stdev=statistics.stdev(ms) if n > 1 else 0.0,
                  p90=percentile(ms, 90), p99=percentile(ms, 99), min=ms[0], max=ms[-1], n=n)
    median_ci, p99_ci = quantile_ci(ms, 0.5, groups=groups), quantile_ci(ms, 0.99, groups=groups)
    if median_ci is not None:
        out["median_ci"] = median_ci
    if p99_ci is not None:
        out["p99_ci"] = p99_ci
    return out
