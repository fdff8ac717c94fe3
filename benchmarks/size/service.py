"""The service times the prediction runs on, and how busy the rest of the machine was during a load point.

Why open-loop service times (docs/notes/h30.md has the numbers): a closed loop keeps an instance busy without a
pause, with one Python client thread per busy instance in the dispatcher's process. Under open-loop Poisson load an
instance sleeps between queries and is woken by a pipe write, and the dispatcher is LoadGen's issuing thread plus one
reader per instance. What a query spends in service differs between the two, so the simulation draws from samples
taken under open-loop load: a calibration point at a moderate rate whose every query records its round trip, the
instance's own inference time and how many instances were busy when it was sent. That point is never a check.
Counts of k busy that the calibration saw too rarely fall back to the closed-loop curve, scaled by the ratio of the
two at the nearest k both measured.
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np

from edgebench.benchmarks.size.queue_sim import ServiceModel

MIN_SAMPLES = 60  # fewer open-loop samples of a busy count than this: that count comes from the closed loop
CALIBRATION_UTILISATION = 0.5  # of the closed-loop throughput: the instances both sleep and overlap
CALIBRATION_S = 1.5  # at most (and >= 200 queries): bench size's default mode must stay under 4 minutes


def machine_cpu() -> tuple[int, int] | None:
    """(all jiffies, idle jiffies) summed over the CPUs, from /proc/stat (None where there is none)."""
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            fields = [int(v) for v in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    return sum(fields), fields[3] + (fields[4] if len(fields) > 4 else 0)


def others_cores(a: tuple[int, int] | None, b: tuple[int, int] | None, wall: float, ours: float) -> float | None:
    """Cores' worth of CPU that processes other than the generator and the instances used between two samples."""
    if a is None or b is None or b[0] <= a[0] or wall <= 0:
        return None
    busy = (b[0] - a[0]) - (b[1] - a[1])
    cores = busy / os.sysconf("SC_CLK_TCK") / wall
    return round(max(0.0, cores - ours), 3)


def served_record(served: list[tuple[float, float, int]]) -> dict[str, list[float]]:
    """A load point's per-query service record as sizing.json keeps it."""
    return {"service_ms": [round(s, 4) for s, _, _ in served], "inference_ms": [round(s, 4) for _, s, _ in served],
            "busy": [float(k) for _, _, k in served]}


def by_busy(record: dict[str, list[float]] | None, instances: int) -> list[np.ndarray]:
    """The open-loop service times of a point by the number of instances busy at dispatch, k = 1..instances."""
    if not record:
        return [np.empty(0) for _ in range(instances)]
    s, k = np.asarray(record["service_ms"], dtype=float), np.asarray(record["busy"], dtype=float)
    return [s[k == n] for n in range(1, instances + 1)]


def open_loop_samples(layout: dict[str, Any]) -> list[np.ndarray] | None:
    """Service times by busy count for the simulation: the calibration point's where it saw enough of a count,
    else the closed-loop curve's scaled to the calibration; None without a calibration point."""
    cal = layout.get("calibration") or {}
    curve = layout.get("interference") or []
    instances = int(layout["instances"])
    seen = by_busy(cal.get("served"), instances)
    if not curve or not seen or seen[0].size < MIN_SAMPLES:
        return None
    closed = [np.asarray(c["service_ms"], dtype=float) for c in curve]
    out: list[np.ndarray] = []
    ratio = 1.0
    for k in range(instances):
        if seen[k].size >= MIN_SAMPLES:
            out.append(seen[k])
            if k < len(closed) and closed[k].size:
                ratio = float(np.median(seen[k]) / np.median(closed[k]))
        else:
            out.append(closed[min(k, len(closed) - 1)] * ratio)
    return out


def service_samples(layout: dict[str, Any]) -> list[np.ndarray]:
    """What the prediction of a layout draws from: open-loop samples when calibrated, else the closed loop."""
    return open_loop_samples(layout) or [np.asarray(c["service_ms"], dtype=float) for c in layout["interference"]]


def model_of(samples: list[np.ndarray]) -> ServiceModel:
    return ServiceModel(samples)
