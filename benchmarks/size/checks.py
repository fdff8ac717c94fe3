"""Every measured layout is a check of the model, and the checks decide whether the prediction can be trusted.

Per layout: the predicted capacity (with its bootstrap interval) against the measured one, and the predicted p99
against the measured one at the VALID load point nearest 80% of the measured capacity. The measured capacity is
only known within the search's bracket [highest VALID, lowest INVALID): a prediction inside it misses by 0.
Across core counts: the 1x1 layout (one instance pinned to one core) predicts 2x1 with no interference (one core
cannot show any), against the 2x1 measurement. The prediction is unreliable on a run when a miss exceeds TARGETS
or other processes used the CPU during load; the answer then rests on measured points only.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from edgebench.benchmarks.size.intervals import bootstrap
from edgebench.benchmarks.size.predict import claim_pct, error
from edgebench.benchmarks.size.queue_sim import ServiceModel, predicted_capacity
from edgebench.benchmarks.size.service import service_samples

TARGETS = {"capacity": 0.15, "p99": 0.20}
CHECK_LOAD = 0.8
BUSY_SHARE = 0.25  # other processes using more than a quarter of the cores during load: a busy machine


def miss(predicted: float | None, bracket: list[float | None]) -> float | None:
    """Relative distance of `predicted` from the measured bracket [VALID, INVALID): 0 inside it."""
    lo, hi = bracket
    if predicted is None or lo is None:
        return None
    if predicted < lo:
        return error(predicted, lo)
    if hi is None:  # no INVALID rate above: the bracket's top is unknown, so the VALID rate is the measure
        return error(predicted, lo)
    return error(predicted, hi) if predicted > hi else 0.0


def _check_point(lay: dict[str, Any]) -> dict[str, Any] | None:
    """The predicted-vs-measured pair at the VALID point nearest CHECK_LOAD x the measured capacity."""
    cap = lay.get("capacity")
    pairs = [q for q in (lay.get("predicted") or {}).get("points") or [] if q["measured_valid"]]
    if not cap or not pairs:
        return None
    return min(pairs, key=lambda q: abs(q["rate"] - CHECK_LOAD * cap))


def layout_check(cand: dict[str, Any], lay: dict[str, Any], rules: dict[str, Any]) -> dict[str, Any] | None:
    pred = lay.get("predicted")
    if not pred or lay.get("skipped"):
        return None
    at = _check_point(lay)
    boot = bootstrap(int(lay["instances"]), service_samples(lay), float(rules["bound_ms"]), claim_pct(rules),
                     at["rate"] if at else None, float(rules["percentile"]) * 100, center=pred["capacity"])
    bracket = pred.get("measured_bracket") or [lay.get("capacity"), None]
    return {"variant": cand["variant"], "runtime": cand["runtime"], "layout": lay["layout"],
            "instances": lay["instances"], "threads": lay["threads"], "measured_capacity": lay.get("capacity"),
            "measured_bracket": bracket, "predicted_capacity": pred["capacity"], "capacity_interval": boot["capacity"],
            "capacity_error": pred["capacity_error"], "capacity_miss": miss(pred["capacity"], bracket),
            "p99_rate": at["rate"] if at else None,
            "p99_load": at["rate"] / lay["capacity"] if at and lay.get("capacity") else None,
            "measured_p99_ms": at["measured_ms"] if at else None, "predicted_p99_ms": at["predicted_ms"] if at else None,
            "p99_interval": boot["p99_ms"], "p99_error": at["error"] if at else None,
            "service": "open-loop calibration" if lay.get("calibration") else "closed loop"}


def cross_core(cand: dict[str, Any], rules: dict[str, Any]) -> dict[str, Any] | None:
    """1x1 (one core) predicts 2x1 (two cores): M/G/2 over the one-core service times, no interference assumed."""
    one = next((lay for lay in cand["layouts"] if lay["layout"] == "1x1" and lay.get("interference")
                and not lay.get("skipped")), None)
    two = next((lay for lay in cand["layouts"] if lay["instances"] == 2 and lay["threads"] == 1
                and lay.get("capacity")), None)
    if one is None or two is None:
        return None
    samples = service_samples(one)[:1]
    level = claim_pct(rules)
    predicted = predicted_capacity(2, ServiceModel(samples), float(rules["bound_ms"]), level, 20_000)
    boot = bootstrap(2, samples, float(rules["bound_ms"]), level, center=predicted)
    bracket = (two.get("predicted") or {}).get("measured_bracket") or [two.get("capacity"), None]
    return {"variant": cand["variant"], "runtime": cand["runtime"], "from": "1x1", "to": two["layout"],
            "predicted_capacity": predicted, "capacity_interval": boot["capacity"],
            "measured_capacity": two.get("capacity"), "measured_bracket": bracket,
            "capacity_error": error(predicted, two.get("capacity")), "capacity_miss": miss(predicted, bracket),
            "note": "one instance pinned to one core measured; two cores predicted with no interference"}


MIN_CHECKED = 2  # measured layouts with a capacity check before a prediction is called reliable


def _worst(rows: list[dict[str, Any]], key: str) -> dict[str, Any] | None:
    have = [r for r in rows if isinstance(r.get(key), float)]
    return max(have, key=lambda r: abs(r[key])) if have else None


def busy_during_load(entry: dict[str, Any]) -> float | None:
    """Mean cores' worth of CPU other processes used over the run's load points (None: not sampled)."""
    seen = [p["other_cpu_cores"] for c in entry["candidates"] for lay in c["layouts"]
            for p in lay.get("points") or [] if isinstance(p.get("other_cpu_cores"), (int, float))]
    return float(np.mean(seen)) if seen else None


def reliability(entry: dict[str, Any], rows: list[dict[str, Any]], cross: list[dict[str, Any]]) -> list[str]:
    """Why the prediction is not reliable on this run (empty: it is)."""
    why = []
    checked = [r for r in rows if isinstance(r.get("capacity_miss"), float)]
    if len(checked) < MIN_CHECKED:  # one agreeing layout is not evidence that the model holds on the others
        why.append(f"only {len(checked)} measured layout(s) had a VALID point to check the model against "
                   f"(at least {MIN_CHECKED} needed)")
    for key, label in (("capacity_miss", "capacity"), ("p99_error", "p99")):
        worst = _worst(rows, key)
        if worst and abs(worst[key]) > TARGETS[label]:
            why.append(f"{label} missed by {worst[key]:+.0%} on {worst['variant']} {worst['layout']} "
                       f"(target {TARGETS[label]:.0%})")
    for c in cross:
        if isinstance(c.get("capacity_miss"), float) and abs(c["capacity_miss"]) > TARGETS["capacity"]:
            why.append(f"1-core-to-2-core check missed by {c['capacity_miss']:+.0%} on {c['variant']}")
    cores = len(entry.get("cpus") or []) or int((entry.get("host") or {}).get("usable_cores") or 1)
    others = busy_during_load(entry)
    if others is not None and others > BUSY_SHARE * cores:
        why.append(f"the machine was busy during load: other processes used {others:.2f} of {cores} cores")
    elif others is None and any("machine busy" in w for w in entry.get("warnings") or []):
        why.append("the machine was busy when sizing started")
    return why


def all_checks(entry: dict[str, Any]) -> dict[str, Any]:
    """sizing.json's "checks": every layout's pair, the cross-core checks, the worst misses and the verdict."""
    rules = entry["rules"]
    rows = [r for c in entry["candidates"] for lay in c["layouts"] if (r := layout_check(c, lay, rules))]
    cross = [x for c in entry["candidates"] if (x := cross_core(c, rules))]
    why = reliability(entry, rows, cross)
    worst_cap, worst_p99 = _worst(rows, "capacity_miss"), _worst(rows, "p99_error")
    return {"targets": TARGETS, "layouts": rows, "cross_core": cross, "other_cpu_cores": busy_during_load(entry),
            "worst_capacity": {k: worst_cap[k] for k in ("variant", "layout", "capacity_miss", "capacity_error")}
            if worst_cap else None,
            "worst_p99": {k: worst_p99[k] for k in ("variant", "layout", "p99_error", "p99_load")}
            if worst_p99 else None,
            "reliable": not why, "unreliable_because": why}
