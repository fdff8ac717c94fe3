"""Intervals on predictions: a bootstrap over the measured service-time samples (and so over the interference they
show with k busy). Every replicate is simulated with the same arrivals and draws (common random numbers), so the
interval is the variability of the measured service times, not the simulation's own noise at a 99.85% quantile. The USL fit is bootstrapped the same way, from throughput
recomputed on resampled closed-loop service times.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from edgebench.benchmarks.size.queue_sim import ServiceModel, percentile, predicted_capacity, simulate
from edgebench.benchmarks.size.usl import USL, fit_usl

REPLICATES = 20
QUERIES = 8_000
LEVEL = 0.90  # the interval holds the middle 90% of the replicates


def resample(samples: Sequence[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
    """Each busy count's samples drawn again with replacement, as many as were measured."""
    return [s[rng.integers(0, s.size, size=s.size)] if s.size else s for s in samples]


def spread(values: Sequence[float]) -> list[float] | None:
    """[low, high] holding the middle LEVEL of `values` (None without any)."""
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], dtype=float)
    if v.size == 0:
        return None
    tail = (1 - LEVEL) / 2 * 100
    return [float(np.percentile(v, tail)), float(np.percentile(v, 100 - tail))]


def bootstrap(instances: int, samples: Sequence[np.ndarray], bound_ms: float, level: Callable[[float], float],
              rate: float | None = None, pct: float = 99.0, slowdown: Callable[[int], Callable[[int], float] | None]
              | None = None, replicates: int = REPLICATES, center: float | None = None) -> dict[str, Any]:
    """Capacity (and the percentile `pct` at `rate`, when given) over `replicates` resampled service models.
    `slowdown(b)` gives replicate b's stretch beyond the measured busy counts (a bootstrapped USL), if any.
    `center`: the point prediction (a longer simulation): the capacity interval is moved by its difference from
    this shorter simulation over the samples as measured, so it is the interval around that prediction."""
    rng = np.random.default_rng(12345)
    caps, p99s = [], []
    shift = 0.0
    if center is not None:
        plain = ServiceModel(list(samples), slowdown(0) if slowdown else None)
        shift = center - predicted_capacity(instances, plain, bound_ms, level, QUERIES, seed=0, resolution=0.01)
    for b in range(replicates):
        model = ServiceModel(resample(samples, rng), slowdown(b) if slowdown else None)
        caps.append(predicted_capacity(instances, model, bound_ms, level, QUERIES, seed=0, resolution=0.01))
        if rate:
            p99s.append(percentile(simulate(rate, instances, model, QUERIES, seed=0), pct))
    capacity = spread([c + shift for c in caps])
    if capacity is not None and center is not None:
        # resampling thins a sample's extreme tail, so the replicates can all sit to one side of the prediction
        # from the samples as measured: the interval is widened to hold that prediction rather than exclude it
        capacity = [min(capacity[0], center), max(capacity[1], center)]
    return {"capacity": capacity, "p99_ms": spread(p99s) if rate else None, "replicates": replicates,
            "level": LEVEL}


def usl_replicates(curve: list[dict[str, Any]], replicates: int = REPLICATES) -> list[USL]:
    """USL fits on throughput from resampled closed-loop service times: X(k) = k / mean service time with k busy
    (the first is the fit on the measured throughput itself)."""
    rng = np.random.default_rng(54321)
    closed = [np.asarray(c["service_ms"], dtype=float) for c in curve]
    out = [fit_usl([c["throughput_per_s"] for c in curve])]  # first: the fit the point prediction uses
    for _ in range(replicates - 1):
        draws = resample(closed, rng)
        out.append(fit_usl([(k + 1) * 1e3 / float(d.mean()) for k, d in enumerate(draws)]))
    return out


def usl_stretch(fits: list[USL], measured_n: int) -> Callable[[int], Callable[[int], float]]:
    """Replicate b's factor over the last measured busy count: slowdown(k) / slowdown(measured_n)."""
    def of(b: int) -> Callable[[int], float]:
        usl = fits[b % len(fits)]
        return lambda k: usl.slowdown(k) / usl.slowdown(measured_n)
    return of
