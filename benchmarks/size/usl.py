"""The Universal Scalability Law, fitted to measured throughput at 1..n busy instances, to reach more cores.

X(N) = X(1) N / (1 + sigma (N - 1) + kappa N (N - 1)): sigma is contention, kappa coherence cost. With N = 1 and 2
only (a 2-core machine), kappa cannot be told from sigma: it is held at 0 (Amdahl's law), and the fit says so.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class USL:
    x1: float  # throughput of one instance (req/s)
    sigma: float
    kappa: float
    measured_n: int
    note: str

    def slowdown(self, n: float) -> float:
        """How much longer each query takes with n instances busy than with one."""
        return 1.0 + self.sigma * (n - 1) + self.kappa * n * (n - 1)

    def throughput(self, n: float) -> float:
        return self.x1 * n / self.slowdown(n)

    def to_dict(self) -> dict[str, Any]:
        return {"x1_per_s": self.x1, "sigma": self.sigma, "kappa": self.kappa, "measured_n": self.measured_n,
                "note": self.note}


def fit_usl(throughput_by_n: Sequence[float]) -> USL:
    """Fit sigma and kappa (both >= 0) to X(1..n) by least squares on N X(1) / X(N) - 1 = sigma (N-1) + kappa N(N-1)."""
    x = np.asarray(throughput_by_n, dtype=float)
    if x.size == 0 or not np.all(x > 0):
        raise ValueError("USL needs a positive throughput for every instance count from 1")
    n = np.arange(1, x.size + 1, dtype=float)
    y = n * x[0] / x - 1.0
    if x.size == 1:
        return USL(float(x[0]), 0.0, 0.0, 1, "one instance measured: linear scaling assumed (no contention seen)")
    if x.size == 2:
        sigma = max(0.0, float(y[1]))
        return USL(float(x[0]), sigma, 0.0, 2, "two instance counts measured: kappa held at 0 (Amdahl's law)")
    from scipy.optimize import nnls
    a = np.column_stack([n - 1, n * (n - 1)])
    (sigma, kappa), _ = nnls(a, y)
    return USL(float(x[0]), float(sigma), float(kappa), int(x.size), f"fitted on {x.size} instance counts")
