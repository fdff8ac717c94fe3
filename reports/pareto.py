"""The Pareto front of (latency, accuracy) points: lower latency and higher accuracy are better."""
from __future__ import annotations

from collections.abc import Sequence


def dominates(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """a is at least as fast and as accurate as b, and strictly better in one of them."""
    return a[0] <= b[0] and a[1] >= b[1] and (a[0] < b[0] or a[1] > b[1])


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the points no other point dominates, ordered by latency (then accuracy, best first).

    Sort by latency, then sweep keeping a point only when it beats the best accuracy seen so far; equal points
    all stay on the front, since neither is better.
    """
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1]))
    front: list[int] = []
    best_acc = float("-inf")
    best_at: tuple[float, float] | None = None
    for i in order:
        p = points[i]
        if p[1] > best_acc:
            front.append(i)
            best_acc, best_at = p[1], p
        elif p == best_at:
            front.append(i)
    return front
