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
    note: str | None = None  # why it ended short of its resolution without a failure (time budget)


def find_capacity(measure: Callable[[float], dict[str, Any]], first_rate: float, max_points: int,
                  resolution: float, on_point: Callable[[dict[str, Any]], None] | None = None,
                  budget_s: float = float("inf"), seconds_at: Callable[[float], float] = lambda rate: 0.0
                  ) -> SearchResult:
    """`measure(rate)` runs one load point and returns it (with "valid" and "failure"). The search also ends
    before a point that would take the layout past `budget_s` (`seconds_at(rate)`: how long a point at that rate
    runs): at low rates LoadGen's minimum query count makes every point long."""
    out = SearchResult()
    lo: float | None = None  # highest VALID rate so far
    hi: float | None = None  # lowest INVALID rate so far
    rate = max(MIN_RATE, first_rate)
    spent = 0.0
    for _ in range(max_points):
        if out.points and spent + seconds_at(rate) > budget_s:
            out.note = f"search ended by its time budget ({budget_s:g} s) before {rate:.0f} req/s"
            break
        spent += seconds_at(rate)
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
