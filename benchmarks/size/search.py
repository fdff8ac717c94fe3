"""Capacity of one layout: the highest rate whose load point is VALID at the SLO, by a bounded search.

The first rate comes from the queue simulation over the layout's own closed-loop service times (a good guess keeps
the search short); then the rate grows by STEP until a point is INVALID, or shrinks by STEP_DOWN until one is VALID, and
the bracket is halved until it is within `resolution` or the point budget is spent. A failed point (crash, hang, memory)
ends the search: the pool it ran on is gone, and the points measured so far stand.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

STEP = 1.25
# Downward the steps are longer: the simulation's first guess errs high on a busy machine (an instance that slept
# between queries wakes late, which the closed-loop service times never see), and a VALID point must come first.
STEP_DOWN = 1.6
MIN_RATE = 1.0


@dataclass
class SearchResult:
    points: list[dict[str, Any]] = field(default_factory=list)
    capacity: float | None = None  # highest VALID rate; None: no rate was VALID
    stopped: str | None = None  # why the search ended early (a failure), if it did


def find_capacity(measure: Callable[[float], dict[str, Any]], first_rate: float, max_points: int,
                  resolution: float, on_point: Callable[[dict[str, Any]], None] | None = None) -> SearchResult:
    """`measure(rate)` runs one load point and returns it (with "valid" and "failure")."""
    out = SearchResult()
    lo: float | None = None  # highest VALID rate so far
    hi: float | None = None  # lowest INVALID rate so far
    rate = max(MIN_RATE, first_rate)
    for _ in range(max_points):
        point = measure(rate)
        out.points.append(point)
        if on_point is not None:
            on_point(point)
        if point.get("failure"):
            out.stopped = point["failure"]
            break
        if point["valid"]:
            lo = rate if lo is None else max(lo, rate)
        else:
            hi = rate if hi is None else min(hi, rate)
        nxt = _next_rate(lo, hi, resolution)
        if nxt is None:
            break
        rate = nxt
    out.capacity = lo
    return out


def _next_rate(lo: float | None, hi: float | None, resolution: float) -> float | None:
    if hi is None:
        return (lo or MIN_RATE) * STEP
    if lo is None:
        return hi / STEP_DOWN if hi / STEP_DOWN >= MIN_RATE else None
    if (hi - lo) <= resolution * hi:
        return None
    return (lo + hi) / 2
