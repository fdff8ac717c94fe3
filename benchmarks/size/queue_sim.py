"""A FIFO queue in front of c instances whose service times depend on how many instances are busy (M/G/c, state
dependent), simulated over measured service-time samples. Never M/M/c: DNN service times have a low coefficient of
variation, and an exponential service time grossly overstates the tail (FIELD-NOTES, "Load tests and sizing").

Each query goes, in arrival order, to the instance that frees first (the least-loaded one: an idle instance when
there is one). Its service time is drawn from the samples measured with k instances busy, k counted when it starts
(itself included); an instance already serving keeps the time it drew. Beyond the measured k, the samples of the
largest measured k are stretched by `extra_slowdown(k)` (the fitted scalability curve).
"""
from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ServiceModel:
    """Service-time samples (ms) by the number of busy instances: samples[k - 1] were measured with k busy."""

    samples: Sequence[np.ndarray]
    extra_slowdown: Callable[[int], float] | None = None  # k > len(samples): factor over the last measured k

    def draw(self, k: int, rng: np.random.Generator, n: int) -> np.ndarray:
        known = len(self.samples)
        base = np.asarray(self.samples[min(k, known) - 1], dtype=float)
        out = base[rng.integers(0, len(base), size=n)]
        if k > known and self.extra_slowdown is not None:
            out = out * self.extra_slowdown(k)
        return out


def simulate(rate_per_s: float, instances: int, service: ServiceModel, queries: int = 20_000,
             seed: int = 0) -> np.ndarray:
    """Response times (ms, waiting plus service) of `queries` Poisson arrivals at `rate_per_s`, from an empty system."""
    rng = np.random.default_rng(seed)
    arrivals = np.cumsum(rng.exponential(1e3 / rate_per_s, size=queries)).tolist()  # ms
    known = min(instances, len(service.samples))
    draws = [service.draw(k, rng, queries).tolist() for k in range(1, known + 1)]
    stretch = [1.0] * (instances + 1)
    if service.extra_slowdown is not None:
        stretch = [1.0 if k <= known else service.extra_slowdown(k) for k in range(instances + 1)]
    free = [0.0] * instances  # when each instance frees, sorted: the first is the least-loaded instance
    out = [0.0] * queries
    for i, t in enumerate(arrivals):
        first_free = free.pop(0)
        start = t if t > first_free else first_free
        k = 1 + len(free) - bisect.bisect_right(free, start)  # instances busy when it starts, itself included
        end = start + (draws[k - 1][i] if k <= known else draws[known - 1][i] * stretch[k])
        bisect.insort(free, end)
        out[i] = end - t
    return np.asarray(out)


def percentile(values: np.ndarray, pct: float) -> float:
    return float(np.percentile(values, pct, method="inverted_cdf"))


def predicted_capacity(instances: int, service: ServiceModel, bound_ms: float, pct: float | Callable[[float], float],
                       queries: int = 20_000, seed: int = 0, resolution: float = 0.005) -> float:
    """The highest Poisson rate (req/s) at which the simulated percentile stays within `bound_ms` (0: none).
    `pct` may depend on the rate: the level a load point of that rate must meet (validity.claim_level)."""
    level = pct if callable(pct) else (lambda rate: float(pct))
    mean_ms = float(np.mean(service.draw(instances, np.random.default_rng(seed), 4096)))
    hi = 1e3 * instances / mean_ms  # the instances' own throughput: no rate above it is stable
    lo = 0.0
    if percentile(simulate(hi * 0.02, instances, service, queries, seed), level(hi * 0.02)) > bound_ms:
        return 0.0
    while hi - lo > resolution * hi:
        mid = (lo + hi) / 2
        if percentile(simulate(mid, instances, service, queries, seed), level(mid)) <= bound_ms:
            lo = mid
        else:
            hi = mid
    return lo
