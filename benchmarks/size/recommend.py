"""The answer, as data: the smallest configuration that carries the rate at the SLO, measured when this machine
could show it, else predicted (with the held-out error), or the statement that no size can meet the SLO.
The words are reports.sizing.text's."""
from __future__ import annotations

from typing import Any

import numpy as np

from edgebench.benchmarks.size.predict import extrapolate, extrapolation_interval

EXTRAPOLATION_LIMIT = 4  # beyond 4x the measured cores a prediction is flagged


def _single_request_ms(lay: dict[str, Any], pct: float) -> float | None:
    """The percentile of one request alone (closed loop, one instance busy): no size can do better."""
    curve = lay.get("interference") or []
    return float(np.percentile(curve[0]["service_ms"], pct)) if curve and curve[0].get("service_ms") else None


def layout_rows(entry: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per measured candidate x layout: capacity, headroom against the rate, memory, prediction."""
    rate, pct = float(entry["rate"]), entry["slo"]["percentile"] * 100
    rows = []
    for cand in entry["candidates"]:
        for lay in cand["layouts"]:
            cap = lay.get("capacity")
            mem = [m for m in lay.get("memory_mb") or [] if m is not None]
            rows.append({"variant": cand["variant"], "runtime": cand["runtime"], "layout": lay["layout"],
                         "instances": lay["instances"], "threads": lay["threads"], "cores": lay["cores"],
                         "capacity": cap, "headroom": (cap / rate - 1) if cap else None,
                         "predicted_capacity": (lay.get("predicted") or {}).get("capacity"),
                         "memory_mb": max(mem) if mem else None, "single_ms": _single_request_ms(lay, pct),
                         "points": len(lay.get("points") or []), "stopped": lay.get("stopped"),
                         "skipped": lay.get("skipped"), "search_note": lay.get("search_note")})
    return rows


def _cost(cores: int, rate: float, price: float | None) -> float | None:
    """$ per million inferences at the given core-hour price, serving `rate` req/s on `cores` cores."""
    return None if not price else cores * price / (rate * 3600) * 1e6


def _errors(entry: dict[str, Any]) -> dict[str, Any]:
    """The worst predicted-vs-measured misses over every measured layout (checks.all_checks), and the verdict."""
    checks = entry.get("checks") or {}
    cap, p99 = checks.get("worst_capacity") or {}, checks.get("worst_p99") or {}
    return {"checked_layouts": len(checks.get("layouts") or []),
            "capacity_error": cap.get("capacity_miss"), "capacity_error_on": _on(cap),
            "p99_error": p99.get("p99_error"), "p99_error_on": _on(p99),
            "cross_core": [{k: c.get(k) for k in ("variant", "to", "capacity_miss", "capacity_error")}
                           for c in checks.get("cross_core") or []],
            "reliable": checks.get("reliable", True), "unreliable_because": checks.get("unreliable_because") or []}


def _on(worst: dict[str, Any]) -> str | None:
    return f"{worst['variant']} {worst['layout']}" if worst else None


def _predicted(entry: dict[str, Any], rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    rate = float(entry["rate"])
    best = None
    for cand in entry["candidates"]:
        ext = extrapolate(cand, rate, entry["rules"])
        if not ext or not ext.get("instances"):
            continue
        if best is None or ext["instances"] < best[1]["instances"]:
            best = (cand, ext)
    if best is None:
        return None
    cand, ext = best
    mem = next((r["memory_mb"] for r in rows if r["variant"] == cand["variant"] and r["runtime"] == cand["runtime"]
                and r["threads"] == 1 and r["memory_mb"]), None)
    out = {"status": "predicted", "variant": cand["variant"], "runtime": cand["runtime"],
           "instances": ext["instances"], "threads": 1, "cores": ext["instances"], "capacity": ext["capacity"],
           "headroom": ext["capacity"] / rate - 1, "memory_mb": mem, "usl": ext["usl"],
           "measured_cores": ext["measured_cores"], **_errors(entry)}
    spread = extrapolation_interval(cand, ext["instances"], entry["rules"], ext["capacity"])
    if spread:
        out.update(capacity_interval=spread["capacity_interval"], beyond=spread["beyond"])
    if ext["instances"] > EXTRAPOLATION_LIMIT * ext["measured_cores"]:
        out["warning"] = (f"extrapolated to {ext['instances']} cores from {ext['measured_cores']} measured "
                          f"(over {EXTRAPOLATION_LIMIT}x): the scalability curve was never checked that far")
    return out


def _why_no_prediction(entry: dict[str, Any]) -> str:
    from edgebench.benchmarks.size.predict import usl_for
    fits = [usl for usl in (usl_for(c) for c in entry["candidates"]) if usl is not None]
    if not fits:
        return "no layout carried the rate and none with single-thread instances was measured to predict from"
    ceiling = max((u.x1 / u.sigma if u.sigma > 0 and u.kappa == 0 else max(u.throughput(n) for n in range(1, 1025)))
                  for u in fits)
    return (f"no layout carried the rate, and the fitted scalability curve levels off at about {ceiling:.0f} req/s "
            "(instances slow each other down): more cores of this kind cannot carry it")


def _measured_only(rows: list[dict[str, Any]], predicted: dict[str, Any]) -> dict[str, Any]:
    """A prediction its checks do not support: the answer is the best measured layout (which does not carry the
    rate), with the prediction kept aside and the reasons."""
    measured = [r for r in rows if r["capacity"]]
    out: dict[str, Any] = {"status": "unreliable", "prediction": {k: predicted.get(k) for k in (
        "variant", "runtime", "instances", "cores", "capacity", "capacity_interval", "beyond")},
        **{k: predicted[k] for k in predicted if k in _errors({})}}
    if measured:
        best = max(measured, key=lambda r: r["capacity"])
        out.update({k: best[k] for k in ("variant", "runtime", "instances", "threads", "cores", "capacity",
                                         "headroom", "memory_mb", "layout")})
    return out


def recommend(entry: dict[str, Any]) -> dict[str, Any]:
    rate, price = float(entry["rate"]), entry.get("price_per_core_hour")
    rows = layout_rows(entry)
    singles = [r["single_ms"] for r in rows if r["single_ms"] is not None]
    fits = [r for r in rows if r["capacity"] and r["capacity"] >= rate]
    if fits:
        best = min(fits, key=lambda r: (r["cores"], -r["capacity"]))
        out: dict[str, Any] = {"status": "measured", **{k: best[k] for k in (
            "variant", "runtime", "instances", "threads", "cores", "capacity", "headroom", "memory_mb", "layout")},
            **_errors(entry)}
    elif singles and min(singles) > entry["slo"]["bound_ms"] and not any(r["capacity"] for r in rows):
        fastest = min((r for r in rows if r["single_ms"] is not None), key=lambda r: r["single_ms"])
        out = {"status": "impossible", "single_ms": fastest["single_ms"], "variant": fastest["variant"],
               "runtime": fastest["runtime"], "layout": fastest["layout"]}
    else:
        out = _predicted(entry, rows) or {"status": "none", "reason": _why_no_prediction(entry)}
    for key, value in _errors(entry).items():
        out.setdefault(key, value)
    if out["status"] == "predicted" and not out["reliable"]:
        out = _measured_only(rows, out)
    if out.get("cores") and out["status"] in ("measured", "predicted"):
        out["cost_per_million"] = _cost(out["cores"], rate, price)
    out["layouts"] = rows
    return out
