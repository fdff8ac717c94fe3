"""How many of the most sensitive layers to keep in float: the fewest whose variant is within the accuracy budget.

The layers come ranked (most sensitive first, by the runtime's own debugging tool). Keeping the first k in float is
tried for k = 1, 2, 4, ... until a variant is within the budget (few layers usually carry most of the error, and
the candidates with few float layers are the fast ones), then the size is bisected between the last k that broke
the budget and the first that kept it. Accuracy need not be monotonic in k, so this finds *a* smallest passing
size along the ranking, not a proof that no smaller set exists; each step is recorded so the trade-off is visible.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Step:
    """One candidate of the search: the first `size` layers of the ranking kept in float, and how it did."""

    size: int
    layers: list[str]
    within_budget: bool
    violations: list[str] = field(default_factory=list)
    figures: dict[str, float] = field(default_factory=dict)  # per output, the figure its kind is judged by
    latency_ms: float | None = None  # screening median, batch 1, the run's first thread count
    seconds: float = 0.0  # what building, checking and screening this candidate took
    error: str | None = None
    payload: Any = None  # what the caller needs to turn the step into a variant (not written out)

    def to_dict(self) -> dict[str, Any]:
        return {"size": self.size, "layers_in_float": self.layers, "within_budget": self.within_budget,
                "violations": self.violations, "figures": self.figures, "latency_ms": self.latency_ms,
                "seconds": round(self.seconds, 2), "error": self.error}


@dataclass
class SearchResult:
    steps: list[Step]
    best: Step | None  # the smallest size within the budget (on a tie in size, the faster)
    out_of_time: bool
    seconds: float


def _sizes_up(n: int) -> list[int]:
    sizes, k = [], 1
    while k < n:
        sizes.append(k)
        k *= 2
    return sizes + [n] if n else []


def search_sizes(n: int, attempt: Callable[[int], Step], budget_s: float) -> SearchResult:
    """Grow the float set 1, 2, 4, ... n until `attempt(k)` is within budget, then bisect; stop at `budget_s`."""
    start = time.monotonic()
    steps: list[Step] = []
    tried: dict[int, Step] = {}

    def run(k: int) -> Step | None:
        if time.monotonic() - start > budget_s:
            return None
        step = tried.get(k) or attempt(k)
        if k not in tried:
            step.seconds = step.seconds or 0.0
            steps.append(step)
            tried[k] = step
        return step

    low, high, out_of_time = 0, None, False
    for k in _sizes_up(n):
        step = run(k)
        if step is None:
            out_of_time = True
            break
        if step.within_budget:
            high = k
            break
        low = k
    while not out_of_time and high is not None and high - low > 1:
        mid = (low + high) // 2
        step = run(mid)
        if step is None:
            out_of_time = True
        elif step.within_budget:
            high = mid
        else:
            low = mid
    ok = [s for s in steps if s.within_budget]
    best = min(ok, key=lambda s: (s.size, s.latency_ms if s.latency_ms is not None else float("inf")), default=None)
    return SearchResult(steps, best, out_of_time, time.monotonic() - start)
