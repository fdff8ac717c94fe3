"""`bench size`: measure every candidate x layout (interference, then the capacity search), predict, recommend.

sizing.json is written after every layout and on Ctrl-C, so what was measured stays on disk.
"""
from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import numpy as np

from edgebench.benchmarks.run.options import Reporter, SilentReporter, item_done
from edgebench.benchmarks.size.candidates import pick_candidates
from edgebench.benchmarks.size.checks import all_checks
from edgebench.benchmarks.size.closed_loop import interference_curve
from edgebench.benchmarks.size.layouts import Layout, default_layouts, parse_layouts
from edgebench.benchmarks.size.open_loop import calibrate, run_point
from edgebench.benchmarks.size.plan import SizeOptions
from edgebench.benchmarks.size.pool import Candidate, InstanceFailed, InstancePool
from edgebench.benchmarks.size.predict import held_out, predict_layout
from edgebench.benchmarks.size.queue_sim import predicted_capacity
from edgebench.benchmarks.size.recommend import recommend
from edgebench.benchmarks.size.search import SearchResult, find_capacity
from edgebench.benchmarks.size.service import model_of, service_samples
from edgebench.benchmarks.size.validity import Rules
from edgebench.results.sizing import save_entry


def _driver() -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return {"name": "mlcommons-loadgen", "version": version("mlcommons-loadgen"), "scenario": "Server"}
    except PackageNotFoundError:
        return {"name": "mlcommons-loadgen", "version": None, "scenario": "Server"}


def new_entry(opts: SizeOptions, rules: Rules) -> dict[str, Any]:
    doc = opts.doc
    host = doc.get("host") or {}
    target = (doc.get("profile") or {}).get("target_arch")
    return {"id": uuid.uuid4().hex[:12], "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "status": "running", "mode": opts.mode.name, "model": (doc.get("model") or {}).get("name"),
            "profile": (doc.get("profile") or {}).get("name"), "target_arch": target,
            "timing_scope": "host" if target and host.get("arch") and target != host.get("arch") else "target",
            "host": {k: host.get(k) for k in ("hostname", "arch", "cpu_model", "usable_cores", "host_id")},
            "cpus": opts.cpus, "slo": {"percentile": opts.percentile, "bound_ms": opts.bound_ms}, "rate": opts.rate,
            "price_per_core_hour": opts.price_per_core_hour, "rules": rules.to_dict(), "driver": _driver(),
            "candidates": [], "warnings": [], "recommendation": None}


def _layouts(opts: SizeOptions, cand: Candidate) -> list[Layout]:
    cores = len(opts.cpus)
    return parse_layouts(opts.layouts, cand.runtime, cores) if opts.layouts else default_layouts(cores, cand.runtime)


def _first_rate(lay: dict[str, Any], rules: Rules) -> float:
    """Where the search starts: the simulation's capacity over this layout's own service times (0: it predicts
    that no rate meets the SLO, because one request alone is slower than the SLO)."""
    from edgebench.benchmarks.size.predict import claim_pct
    return predicted_capacity(lay["instances"], model_of(service_samples(lay)), rules.bound_ms,
                              claim_pct(rules.to_dict()), 5000)


def measure_layout(opts: SizeOptions, rules: Rules, cand: Candidate, layout: Layout, lay: dict[str, Any],
                   reporter: Reporter) -> None:
    """Fill `lay` with the interference curve, the load points and the capacity; a failure ends it with a reason."""
    with InstancePool(cand, layout, opts.cpus, opts.timeout, opts.max_rss_mb) as pool:
        lay["cpus"] = pool.cpu_sets
        lay["settings"] = pool.settings()
        lay["interference"] = interference_curve(pool, opts.mode.interference_s, opts.hang_s)

        def measure(rate: float) -> dict[str, Any]:
            return run_point(pool, rate, rules, opts.hang_s, max(60.0, 20 * rules.min_duration_s))

        if opts.rates:
            lay["calibration"] = calibrate(pool, lay["interference"], rules, opts.hang_s)
            result = _fixed_rates(measure, opts.rates)
        else:
            first = _first_rate(lay, rules)  # closed loop: one request alone over the SLO needs no calibration
            if first > 0:
                lay["calibration"] = calibrate(pool, lay["interference"], rules, opts.hang_s)
                first = _first_rate(lay, rules)
            lay["search_start_rate"] = first
            if first <= 0:  # open-loop points cannot beat one request alone: spend no minutes proving it
                alone = float(np.percentile(lay["interference"][0]["service_ms"], opts.percentile * 100))
                lay["skipped"] = (f"one request alone is over the SLO (closed loop p{opts.percentile * 100:g} "
                                  f"{alone:.3g} ms): no load point measured")
                lay["memory_mb"], lay["load_s"] = pool.peak_rss_mb(), pool.load_s
                return

            def told(p: dict[str, Any]) -> None:
                verdict = "VALID" if p["valid"] else f"INVALID ({p['reason']})"
                reporter.note(f"  {cand.name} {layout.name}: {p['rate']:.0f} req/s {verdict}")
            result = find_capacity(measure, first, opts.mode.max_points, opts.mode.resolution, told,
                                   opts.mode.layout_budget_s, lambda r: max(rules.min_duration_s, rules.min_queries / r))
        lay["points"], lay["capacity"], lay["stopped"] = result.points, result.capacity, result.stopped
        lay["search_note"] = result.note
        lay["memory_mb"] = pool.peak_rss_mb()
        lay["load_s"] = pool.load_s


def _fixed_rates(measure: Callable[[float], dict[str, Any]], rates: list[float]) -> SearchResult:
    """--rates: these load points in order, no search; capacity = the highest VALID among them."""
    result = SearchResult()
    for r in rates:
        result.points.append(measure(r))
        if result.points[-1].get("failure"):
            result.stopped = result.points[-1]["failure"]
            break
    valid = [p["rate"] for p in result.points if p["valid"]]
    result.capacity = max(valid) if valid else None
    return result


def _layout_record(layout: Layout) -> dict[str, Any]:
    return {"layout": layout.name, "instances": layout.instances, "threads": layout.threads,
            "spinning": layout.spinning, "cores": layout.cores, "interference": [], "points": [], "capacity": None,
            "stopped": None}


def _load_avg() -> list[float]:
    import os
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return [0.0]


def run_sizing(opts: SizeOptions, reporter: Reporter | None = None) -> dict[str, Any]:
    """Measure, predict and recommend; returns the sizing entry as written to sizing.json."""
    reporter = reporter or SilentReporter()
    rules = Rules(opts.percentile, opts.bound_ms, opts.mode.min_queries, opts.mode.min_duration_s)
    entry = new_entry(opts, rules)
    work = [(c, why, _layouts(opts, c)) for c, why in pick_candidates(opts.doc, opts.run_dir / "work", opts.variants)]
    from edgebench.benchmarks.measure.environment import busy_warning, cpu_busy_fraction
    busy = busy_warning({"cores": len(opts.cpus), "load_avg_start": _load_avg()}, cpu_busy_fraction())
    if busy:
        entry["warnings"].append(busy)
    reporter.stage("measuring load per layout", total=sum(len(lays) for _, _, lays in work))
    try:
        for cand, why, layouts in work:
            rec: dict[str, Any] = {"variant": cand.variant, "runtime": cand.runtime, "why": why,
                                   "model_path": cand.model_path, "layouts": [],
                                   "single_stream_p99_ms": cand.single_stream_p99_ms}
            entry["candidates"].append(rec)
            for layout in layouts:
                text = f"{cand.name} {layout.name}"
                reporter.advance(text)
                lay = _layout_record(layout)
                rec["layouts"].append(lay)
                try:
                    measure_layout(opts, rules, cand, layout, lay, reporter)
                except InstanceFailed as exc:
                    lay["stopped"] = str(exc)
                item_done(reporter, text, "failed" if lay["stopped"] else "ok")
                save_entry(opts.run_dir, entry)
    except KeyboardInterrupt:
        entry["status"] = "interrupted"
        save_entry(opts.run_dir, entry)
        raise
    reporter.stage("predicting")
    finish(entry)
    entry["status"] = "complete"
    save_entry(opts.run_dir, entry)
    return entry


def finish(entry: dict[str, Any]) -> None:
    """Predictions for every measured layout, the held-out check per candidate, and the recommendation."""
    for cand in entry["candidates"]:
        for lay in cand["layouts"]:
            if lay.get("interference"):
                lay["predicted"] = predict_layout(lay, entry["rules"])
        cand["held_out"] = held_out(cand)
    entry["checks"] = all_checks(entry)
    entry["recommendation"] = recommend(entry)
