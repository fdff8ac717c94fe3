"""MLPerf LoadGen's server-scenario rules for one open-loop load point: VALID or INVALID, with the reason.

Early stopping (LoadGen's, c = 0.99): a point may claim "p99 <= bound" only if, were the true share of queries over
the bound 1%, seeing as few overs as were seen would have had probability <= 1%. So N queries with h over the bound
support the claim when BinomCDF(h; N, 0.01) <= 0.01: at least 459 queries with none over, 662 with one, 838 with two.
The early-stopping p99 is the latency with exactly the tolerable number of queries above it: the claim holds
exactly when it is within the bound.
"""
from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

CONFIDENCE = 0.99
MIN_RATE_RATIO = 0.99  # the generator must issue at least 99% of the scheduled rate, or the point says nothing


def _binom_cdf(h: int, n: int, q: float) -> float:
    from scipy.stats import binom
    return float(binom.cdf(h, n, q))


def min_queries(overs: int, percentile: float = 0.99, confidence: float = CONFIDENCE) -> int:
    """The fewest queries that let a point with `overs` queries over the bound claim the percentile."""
    q, alpha = 1.0 - percentile, 1.0 - confidence
    lo, hi = overs + 1, max(overs + 2, 16)
    while _binom_cdf(overs, hi, q) > alpha:  # the CDF falls as N grows: find an upper end, then bisect
        lo, hi = hi, hi * 2
    while lo < hi:
        mid = (lo + hi) // 2
        if _binom_cdf(overs, mid, q) <= alpha:
            hi = mid
        else:
            lo = mid + 1
    return lo


def tolerable_overs(n: int, percentile: float = 0.99, confidence: float = CONFIDENCE) -> int:
    """The most queries over the bound that `n` queries can have and still claim the percentile (-1: none)."""
    if n <= 0:
        return -1
    from scipy.stats import binom
    q, alpha = 1.0 - percentile, 1.0 - confidence
    h = int(binom.ppf(alpha, n, q))
    while h >= 0 and _binom_cdf(h, n, q) > alpha:
        h -= 1
    while _binom_cdf(h + 1, n, q) <= alpha:
        h += 1
    return h


@functools.lru_cache(maxsize=4096)
def claim_level(n: int, percentile: float = 0.99, confidence: float = CONFIDENCE) -> float:
    """The quantile of the latency distribution at which the early-stopping percentile of `n` queries (their
    (h+1)-th largest) typically falls, by its median rank (Benard: 1 - (h + 0.7) / (n + 0.4)): 0.9985 at 459
    queries for p99 (the maximum of 459), about 0.994 at 3,000. What a prediction must meet to match a VALID."""
    h = max(0, tolerable_overs(n, percentile, confidence))
    return 1.0 - (h + 0.7) / (n + 0.4)


def queries_at(rate: float, min_queries: int, min_duration_s: float) -> int:
    """How many queries a load point at `rate` issues: LoadGen runs until both minimums are met."""
    return max(min_queries, math.ceil(rate * min_duration_s))


def early_stopping_percentile(latencies: Sequence[float], percentile: float = 0.99,
                              confidence: float = CONFIDENCE) -> float | None:
    """The latency that the percentile is within at `confidence` (None: too few queries to claim anything)."""
    h = tolerable_overs(len(latencies), percentile, confidence)
    if h < 0:
        return None
    ordered = sorted(latencies)
    return float(ordered[len(ordered) - h - 1])


def percentile_of(values: Sequence[float], pct: float) -> float | None:
    """The nearest-rank percentile (LoadGen reports these: no interpolation between two queries)."""
    if not values:
        return None
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, max(0, math.ceil(pct / 100 * len(ordered)) - 1))])


@dataclass(frozen=True)
class Rules:
    """What a point must meet: the SLO and the mode's minimum query count and duration."""

    percentile: float  # 0.99 for p99
    bound_ms: float
    min_queries: int
    min_duration_s: float

    def to_dict(self) -> dict[str, Any]:
        return {"percentile": self.percentile, "bound_ms": self.bound_ms, "min_queries": self.min_queries,
                "min_duration_s": self.min_duration_s, "confidence": CONFIDENCE, "min_rate_ratio": MIN_RATE_RATIO}


def judge(latencies_ms: Sequence[float], duration_s: float, scheduled_rate: float, achieved_rate: float,
          rules: Rules, failure: str | None = None) -> dict[str, Any]:
    """The verdict on one point: valid, the reasons it is not, and the figures the verdict rests on. A point whose
    generator fell behind its schedule reports no percentile at all: its queries did not arrive as claimed."""
    reasons = [failure] if failure else []
    n = len(latencies_ms)
    kept_rate = achieved_rate / scheduled_rate if scheduled_rate > 0 else 0.0
    if kept_rate < MIN_RATE_RATIO:
        reasons.append(f"generator fell behind: issued {achieved_rate:.1f} req/s of {scheduled_rate:.1f} scheduled "
                       f"({kept_rate:.1%} < 99%)")
    if duration_s < rules.min_duration_s:
        reasons.append(f"ran {duration_s:.1f} s < minimum {rules.min_duration_s:g} s")
    if n < rules.min_queries:
        reasons.append(f"{n} queries < minimum {rules.min_queries}")
    pct = rules.percentile * 100
    es = early_stopping_percentile(latencies_ms, rules.percentile) if n else None
    if es is None and not failure:
        reasons.append(f"{n} queries cannot support a p{pct:g} claim at 99% confidence "
                       f"(needs >= {min_queries(0, rules.percentile)})")
    elif es is not None and es > rules.bound_ms:
        reasons.append(f"p{pct:g} over the SLO: early-stopping p{pct:g} {es:.3g} ms > {rules.bound_ms:g} ms")
    honest = kept_rate >= MIN_RATE_RATIO and not failure
    return {"valid": not reasons, "reason": "; ".join(reasons) or None, "queries": n,
            "overs": sum(1 for v in latencies_ms if v > rules.bound_ms),
            "percentile_ms": percentile_of(latencies_ms, pct) if honest else None,
            "early_stopping_ms": es if honest else None,
            "p50_ms": percentile_of(latencies_ms, 50) if honest else None}
