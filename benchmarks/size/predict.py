"""Predictions from closed-loop service times, checked on the open-loop points they never saw.

For each layout, the queue simulation over that layout's interference curve (service times with k = 1..I busy)
predicts the percentile at every rate that was measured and the capacity at the SLO. The open-loop points are never
used to fit anything, so every measured point is a held-out check; the headline check is the layout with the most
single-thread instances: its capacity and p99 predicted from one-instance service times plus the interference curve.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from edgebench.benchmarks.size.queue_sim import ServiceModel, percentile, predicted_capacity, simulate
from edgebench.benchmarks.size.service import service_samples
from edgebench.benchmarks.size.usl import USL, fit_usl
from edgebench.benchmarks.size.validity import claim_level, queries_at

SIM_QUERIES = 20_000


def service_model(layout: dict[str, Any], usl: USL | None = None) -> ServiceModel:
    """The layout's service times (service.service_samples: open-loop when calibrated), stretched by the USL
    beyond the busy counts measured."""
    samples = service_samples(layout)
    if usl is None:
        return ServiceModel(samples)
    n = len(samples)
    return ServiceModel(samples, lambda k: usl.slowdown(k) / usl.slowdown(n))


def error(predicted: float | None, measured: float | None) -> float | None:
    """(predicted - measured) / measured; None when either is missing."""
    if predicted is None or measured is None or measured <= 0:
        return None
    return (predicted - measured) / measured


def claim_pct(rules: dict[str, Any]) -> Callable[[float], float]:
    """The percentile (0-100) a load point at a rate must have within the bound to be VALID: its early-stopping
    rank for the queries it issues. A capacity predicted with plain p99 would be judged by a laxer rule than the
    measured one (at 459 queries, VALID needs every query within the bound)."""
    def at(rate: float) -> float:
        n = queries_at(rate, int(rules["min_queries"]), float(rules["min_duration_s"]))
        return 100 * claim_level(n, float(rules["percentile"]))
    return at


def predict_layout(layout: dict[str, Any], rules: dict[str, Any]) -> dict[str, Any]:
    """Predicted capacity and, at every measured rate whose generator kept its schedule, predicted vs measured."""
    model = service_model(layout)
    instances = int(layout["instances"])
    bound_ms, pct = float(rules["bound_ms"]), float(rules["percentile"]) * 100
    capacity = predicted_capacity(instances, model, bound_ms, claim_pct(rules), SIM_QUERIES)
    pairs = []
    for p in layout.get("points", []):
        if p.get("percentile_ms") is None:
            continue
        sim = simulate(float(p["scheduled_rate"] or p["rate"]), instances, model, SIM_QUERIES)
        pred = percentile(sim, pct)
        pairs.append({"rate": p["rate"], "measured_ms": p["percentile_ms"], "predicted_ms": pred,
                      "error": error(pred, p["percentile_ms"]), "measured_valid": p["valid"]})
    at_capacity = next((q for q in reversed(pairs) if q["measured_valid"] and layout.get("capacity") is not None
                        and abs(q["rate"] - layout["capacity"]) < 1e-9), None)
    measured = layout.get("capacity")
    above = [p["rate"] for p in layout.get("points", []) if not p["valid"] and (measured is None or p["rate"] > measured)]
    return {"capacity": capacity, "capacity_error": error(capacity, measured), "points": pairs,
            # the measured capacity lies in [capacity, lowest INVALID rate above it): how sharp the check can be
            "measured_bracket": [measured, min(above) if above else None],
            "p99_error_at_capacity": at_capacity["error"] if at_capacity else None,
            "source": f"M/G/{instances} simulation over the {layout['layout']} service times with 1..{instances} busy"
                      f" ({'open-loop calibration' if layout.get('calibration') else 'closed loop'})"}


def held_out(cand: dict[str, Any]) -> dict[str, Any] | None:
    """The headline check of a candidate: its I x 1 layout with the most instances (I >= 2), if it was measured."""
    multi = [lay for lay in cand["layouts"] if lay["threads"] == 1 and lay["instances"] >= 2 and lay.get("predicted")]
    if not multi:
        return None
    lay = max(multi, key=lambda lay: lay["instances"])
    pred = lay["predicted"]
    return {"layout": lay["layout"], "measured_capacity": lay.get("capacity"), "predicted_capacity": pred["capacity"],
            "measured_bracket": pred.get("measured_bracket"),
            "capacity_error": pred["capacity_error"], "p99_error": pred["p99_error_at_capacity"],
            "pairs": pred["points"]}


def usl_for(cand: dict[str, Any]) -> USL | None:
    """The scalability curve from the closed-loop throughput of the widest I x 1 layout's interference curve."""
    multi = [lay for lay in cand["layouts"] if lay["threads"] == 1 and lay.get("interference")]
    if not multi:
        return None
    lay = max(multi, key=lambda lay: lay["instances"])
    return fit_usl([c["throughput_per_s"] for c in lay["interference"]])


def extrapolate(cand: dict[str, Any], rate: float, rules: dict[str, Any],
                max_cores: int = 1024) -> dict[str, Any] | None:
    """The fewest single-thread instances (one core each) predicted to carry `rate` at the SLO, beyond what this
    machine measured: service times with k busy from the interference curve, stretched by the USL beyond it."""
    multi = [lay for lay in cand["layouts"] if lay["threads"] == 1 and lay.get("interference")]
    usl = usl_for(cand)
    if not multi or usl is None:
        return None
    if max(usl.throughput(n) for n in range(1, max_cores + 1)) < rate:  # no queueing model can beat throughput
        return {"instances": None, "usl": usl.to_dict(), "note": f"the scalability curve stays under {rate:g} req/s"}
    widest = max(multi, key=lambda lay: lay["instances"])
    curve = widest["interference"]
    model = service_model(widest, usl)
    cap = lambda n: predicted_capacity(n, model, float(rules["bound_ms"]), claim_pct(rules), SIM_QUERIES)  # noqa: E731
    lo, hi = len(curve), len(curve) * 2
    while cap(hi) < rate:
        if hi >= max_cores:
            return {"instances": None, "usl": usl.to_dict(), "note": f"not within {max_cores} cores"}
        lo, hi = hi, min(max_cores, hi * 2)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if cap(mid) >= rate else (mid, hi)
    return {"instances": hi, "threads": 1, "capacity": cap(hi), "usl": usl.to_dict(), "measured_cores": len(curve)}


def extrapolation_interval(cand: dict[str, Any], instances: int, rules: dict[str, Any],
                           center: float | None = None) -> dict[str, Any] | None:
    """The bootstrap interval of the capacity extrapolated to `instances` single-thread instances: the service
    times and the USL fit (from the same closed-loop curve) resampled together; and how far beyond it goes."""
    from edgebench.benchmarks.size.intervals import bootstrap, usl_replicates, usl_stretch
    multi = [lay for lay in cand["layouts"] if lay["threads"] == 1 and lay.get("interference")]
    if not multi:
        return None
    widest = max(multi, key=lambda lay: lay["instances"])
    measured = len(widest["interference"])
    fits = usl_replicates(widest["interference"])
    boot = bootstrap(instances, service_samples(widest), float(rules["bound_ms"]), claim_pct(rules),
                     slowdown=usl_stretch(fits, measured), center=center)
    return {"capacity_interval": boot["capacity"], "measured_cores": measured, "cores": instances,
            "beyond": f"{instances} cores predicted from {measured} measured ({instances / measured:.1f}x)",
            "sigma_interval": [float(np.percentile([f.sigma for f in fits], q)) for q in (5, 95)]}
