"""Interference: the service-time distribution with k instances busy at once, k = 1..instances (closed loop).

Each busy instance gets its next request as soon as it answers, so exactly k are busy. The service time is the
round trip as the dispatcher sees it (request written to reply read): what an open-loop query spends in service,
pipe and wake-up included, which is what the queue simulation needs. The instance's own inference time is kept too.
"""
from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np

from edgebench.benchmarks.size.instance_child import CALIBRATION
from edgebench.benchmarks.size.pool import InstanceFailed, InstancePool

WARMUP_REPLIES = 3


def _busy_loop(pool: InstancePool, i: int, until: float, out: list[tuple[float, float]], errors: list[str],
               hang_s: float) -> None:
    clock = time.perf_counter
    n = 0
    try:
        while clock() < until:
            t = clock()
            pool.send(i, CALIBRATION | n)
            _, inference_s = pool.recv(i, hang_s)
            if n >= WARMUP_REPLIES:
                out.append(((clock() - t) * 1e3, inference_s * 1e3))
            n += 1
    except InstanceFailed as exc:
        errors.append(str(exc))
    except (OSError, ValueError, EOFError) as exc:  # the pool was closed under us (Ctrl-C): no thread traceback
        errors.append(f"{pool.layout.name} instance {i} stopped: {type(exc).__name__}")


def service_times(pool: InstancePool, k: int, seconds: float, hang_s: float) -> dict[str, Any]:
    """Closed loop on the first k instances for `seconds`: the pooled service times (ms) and the throughput."""
    until = time.perf_counter() + seconds
    results: list[list[tuple[float, float]]] = [[] for _ in range(k)]
    errors: list[str] = []
    threads = [threading.Thread(target=_busy_loop, args=(pool, i, until, results[i], errors, hang_s), daemon=True)
               for i in range(k)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    if errors:
        raise InstanceFailed(errors[0])
    rtt = np.array([r for res in results for r, _ in res])
    inference = np.array([s for res in results for _, s in res])
    if rtt.size == 0:
        raise InstanceFailed(f"no reply from {pool.layout.name} within {seconds:g} s")
    return {"busy": k, "service_ms": np.round(rtt, 4).tolist(), "inference_ms": np.round(inference, 4).tolist(),
            "throughput_per_s": float(rtt.size / wall), "mean_ms": float(rtt.mean()),
            "p50_ms": float(np.percentile(rtt, 50)), "p99_ms": float(np.percentile(rtt, 99))}


def interference_curve(pool: InstancePool, seconds: float, hang_s: float) -> list[dict[str, Any]]:
    """service_times for k = 1..instances: how much each instance slows the others down."""
    return [service_times(pool, k, seconds, hang_s) for k in range(1, pool.layout.instances + 1)]
