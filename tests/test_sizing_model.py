"""bench size's pure parts: LoadGen's early-stopping counts, the queue simulation against closed forms, the
scalability fit, the capacity search's logic, the SLO syntax and the layouts that fit a machine."""
from __future__ import annotations

import math

import numpy as np
import pytest

from edgebench.benchmarks.size.layouts import Layout, cpu_sets, default_layouts, parse_layouts
from edgebench.benchmarks.size.plan import parse_slo
from edgebench.benchmarks.size.queue_sim import ServiceModel, percentile, predicted_capacity, simulate
from edgebench.benchmarks.size.search import find_capacity
from edgebench.benchmarks.size.usl import fit_usl
from edgebench.benchmarks.size.validity import Rules, claim_level, judge, min_queries, tolerable_overs
from edgebench.results.errors import UserError


def test_early_stopping_minimum_queries_at_p99_and_p90():
    # MLPerf LoadGen's early-stopping table at 99% confidence (FIELD-NOTES)
    assert [min_queries(h) for h in (0, 1, 2, 10, 100)] == [459, 662, 838, 2010, 12571]
    assert [min_queries(h, 0.90) for h in (0, 1, 2)] == [44, 64, 81]
    assert [tolerable_overs(n) for n in (458, 459, 661, 662)] == [-1, 0, 0, 1]


def _point(n: int, overs: int, rules: Rules) -> dict:
    lat = [1.0] * (n - overs) + [50.0] * overs
    return judge(lat, duration_s=5.0, scheduled_rate=100.0, achieved_rate=100.0, rules=rules)


def test_a_point_is_valid_exactly_when_early_stopping_allows_its_overs():
    rules = Rules(0.99, 10.0, min_queries=0, min_duration_s=1.0)
    assert _point(459, 0, rules)["valid"]
    assert not _point(458, 0, rules)["valid"]
    one_over_short = _point(661, 1, rules)
    assert not one_over_short["valid"] and "p99 over the SLO" in one_over_short["reason"]
    assert _point(662, 1, rules)["valid"]
    assert not _point(662, 2, rules)["valid"] and _point(838, 2, rules)["valid"]


def test_a_generator_that_fell_behind_reports_no_percentile():
    rules = Rules(0.99, 10.0, min_queries=459, min_duration_s=1.0)
    p = judge([1.0] * 1000, duration_s=5.0, scheduled_rate=1000.0, achieved_rate=980.0, rules=rules)
    assert not p["valid"] and "generator fell behind" in p["reason"]
    assert p["percentile_ms"] is None and p["early_stopping_ms"] is None


@pytest.mark.parametrize("rho", [0.5, 0.8])
def test_md1_mean_wait_matches_pollaczek_khinchine(rho):
    service_ms = 1.0
    resp = simulate(rho * 1e3 / service_ms, 1, ServiceModel([np.array([service_ms])]), 200_000, seed=3)
    wait = resp.mean() - service_ms
    expected = rho * service_ms / (2 * (1 - rho))  # P-K for deterministic service: rho / (2 mu (1 - rho))
    assert wait == pytest.approx(expected, rel=0.06)


def _erlang_c_wait(c: int, a: float, mean_s: float) -> float:
    rho = a / c
    top = a**c / math.factorial(c) / (1 - rho)
    prob_wait = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    return prob_wait * mean_s / (c - a)


@pytest.mark.parametrize("c,a", [(2, 1.5), (4, 3.2)])
def test_mmc_mean_wait_matches_erlang_c(c, a):
    exp = np.random.default_rng(7).exponential(1.0, 500_000)
    resp = simulate(a * 1e3, c, ServiceModel([exp] * c), 200_000, seed=11)
    assert resp.mean() - 1.0 == pytest.approx(_erlang_c_wait(c, a, 1.0), rel=0.08)


def test_low_variance_service_needs_six_servers_not_infinitely_many():
    # FIELD-NOTES' worked example: E[S] 8 ms, CV 0.3, 500 req/s, p99 SLO 20 ms -> 5 servers miss it, 6 meet it
    sigma = math.sqrt(math.log(1 + 0.3**2))
    s = np.random.default_rng(1).lognormal(math.log(8.0) - sigma**2 / 2, sigma, 200_000)
    p5 = percentile(simulate(500, 5, ServiceModel([s]), 60_000, seed=2), 99)
    p6 = percentile(simulate(500, 6, ServiceModel([s]), 60_000, seed=2), 99)
    assert p6 < 20.0 < p5
    assert p5 == pytest.approx(26.4, rel=0.15) and p6 == pytest.approx(17.6, rel=0.1)


def test_interference_slows_service_only_when_instances_are_busy_together():
    alone, together = np.array([1.0]), np.array([3.0])
    model = ServiceModel([alone, together])
    light = simulate(5, 2, model, 5_000)  # almost never two at once
    heavy = simulate(900, 2, model, 20_000)
    assert np.median(light) == pytest.approx(1.0)
    assert np.median(heavy) > 2.9
    assert predicted_capacity(2, model, 10.0, 99.0) < predicted_capacity(2, ServiceModel([alone, alone]), 10.0, 99.0)


def test_usl_fit_recovers_known_contention():
    n = np.arange(1, 7)
    x = 100 * n / (1 + 0.05 * (n - 1) + 0.01 * n * (n - 1))
    usl = fit_usl(x.tolist())
    assert usl.sigma == pytest.approx(0.05, abs=1e-6) and usl.kappa == pytest.approx(0.01, abs=1e-6)
    two = fit_usl([100.0, 180.0])
    assert two.kappa == 0 and two.throughput(2) == pytest.approx(180.0) and "Amdahl" in two.note


def test_capacity_search_brackets_the_highest_valid_rate():
    seen: list[float] = []

    def measure(rate: float) -> dict:
        seen.append(rate)
        return {"rate": rate, "valid": rate <= 430.0, "failure": None}

    result = find_capacity(measure, 300.0, max_points=12, resolution=0.03)
    assert result.capacity is not None and 0.97 * 430 <= result.capacity <= 430
    assert len(seen) <= 12 and result.stopped is None


def test_capacity_search_stops_at_a_failure():
    points = iter([{"rate": 1.0, "valid": True, "failure": None},
                   {"rate": 2.0, "valid": False, "failure": "instance 1 crashed"}])
    result = find_capacity(lambda r: dict(next(points), rate=r), 100.0, max_points=6, resolution=0.03)
    assert len(result.points) == 2 and result.stopped == "instance 1 crashed" and result.capacity == 100.0


def test_slo_syntax():
    assert parse_slo("p99=10ms") == (0.99, 10.0)
    assert parse_slo("p90=0.02s") == (0.90, 20.0)
    for bad in ("p99", "99=10ms", "p99=10", "p100=1ms", "p99=-1ms"):
        with pytest.raises(UserError):
            parse_slo(bad)


def test_layouts_that_fit_two_cores():
    assert [lay.name for lay in default_layouts(2, "onnxruntime")] == ["1x1", "2x1", "1x2-spin", "1x2-nospin"]
    assert [lay.name for lay in default_layouts(2, "litert")] == ["1x1", "2x1", "1x2"]
    assert cpu_sets(Layout(2, 1), [0, 1]) == [[0], [1]]
    shared = parse_layouts("2x2", "onnxruntime", 2)  # more threads than cores: shared, so spinning off
    assert [lay.name for lay in shared] == ["2x2-nospin"] and cpu_sets(shared[0], [0, 1]) == [[], []]
    with pytest.raises(UserError):
        parse_layouts("2by1", "litert", 2)


def test_predictions_are_judged_by_the_rule_a_load_point_is_judged_by():
    # 459 queries with none over the bound: the claim rests on their maximum, typically the 0.9985 quantile
    assert claim_level(459) == pytest.approx(0.5 ** (1 / 459), abs=1e-4)
    assert claim_level(662) < claim_level(459) and claim_level(3000) == pytest.approx(0.994, abs=0.001)
    s = np.random.default_rng(4).lognormal(0, 0.3, 50_000)
    model = ServiceModel([s])
    assert predicted_capacity(1, model, 4.0, lambda rate: 100 * claim_level(459)) < predicted_capacity(1, model, 4.0, 99)


def _entry(rate: float, service_ms: float, slow: float = 1.1, caps: tuple[float, float] = (150.0, 280.0)) -> dict:
    """A sizing entry as bench size writes it, for a variant whose service time is `service_ms` alone and `slow`
    times that with two instances busy, measured on 1x1 and 2x1 (capacities as measured: `caps`)."""
    rng = np.random.default_rng(0)
    s1 = (service_ms * rng.lognormal(0, 0.1, 2000)).tolist()
    s2 = [slow * v for v in s1]
    curve1 = [{"busy": 1, "service_ms": s1, "throughput_per_s": 1e3 / np.mean(s1)}]
    curve2 = curve1 + [{"busy": 2, "service_ms": s2, "throughput_per_s": 2e3 / np.mean(s2)}]
    lays = [{"layout": "1x1", "instances": 1, "threads": 1, "cores": 1, "interference": curve1, "capacity": caps[0],
             "memory_mb": [40.0], "points": []},
            {"layout": "2x1", "instances": 2, "threads": 1, "cores": 2, "interference": curve2, "capacity": caps[1],
             "memory_mb": [41.0, 42.0], "points": []}]
    rules = Rules(0.99, 20.0, 459, 1.0).to_dict()
    return {"rate": rate, "slo": {"percentile": 0.99, "bound_ms": 20.0}, "rules": rules, "price_per_core_hour": 0.04,
            "host": {"cpu_model": "Test CPU"}, "status": "complete", "warnings": [],
            "candidates": [{"variant": "tflite-int8", "runtime": "litert", "layouts": lays}]}


def test_the_answer_is_measured_when_the_machine_carries_the_rate_else_predicted_with_a_warning_far_out():
    from edgebench.benchmarks.size.sizer import finish
    from edgebench.reports.sizing.text import answer_lines

    small = _entry(200.0, 5.0)
    finish(small)
    rec = small["recommendation"]
    assert rec["status"] == "measured" and rec["layout"] == "2x1" and rec["cores"] == 2
    assert rec["cost_per_million"] == pytest.approx(2 * 0.04 / (200 * 3600) * 1e6)
    assert answer_lines(small)[0].startswith("200 req/s at p99 <= 20 ms: 2 cores of Test CPU as 2 instances x 1 "
                                             "thread of tflite-int8 on LiteRT; capacity 280 req/s")
    # the fixture's measured capacities disagree with the model by 30-56%: measured answer, prediction flagged
    assert any(ln.startswith("warning: the prediction is not reliable on this run (capacity missed by -56% on "
                             "tflite-int8 1x1") for ln in answer_lines(small))
    big = _entry(1200.0, 5.0, 1.03, (66.0, 205.0))  # capacities the model predicts within the targets
    finish(big)
    rec = big["recommendation"]
    assert rec["status"] == "predicted" and rec["cores"] > 8 and "extrapolated" in rec["warning"]
    assert "predicted (90% interval [" in answer_lines(big)[0] and "M/G/c simulation + USL" in answer_lines(big)[0]
    # two instances ran 10% slower than one: the USL's throughput levels off below 2,000 req/s
    too_big = _entry(3000.0, 5.0)
    finish(too_big)
    assert too_big["recommendation"]["status"] == "none"
    assert "levels off at about 1996 req/s" in answer_lines(too_big)[0]


def test_capacity_search_keeps_to_its_time_budget():
    # at 10 req/s a 459-query point runs 46 s: a 60 s budget allows the first point only
    result = find_capacity(lambda r: {"rate": r, "valid": False, "failure": None}, 16.0, max_points=6,
                           resolution=0.03, budget_s=60.0, seconds_at=lambda r: 459 / r)
    assert len(result.points) == 1 and result.capacity is None and "time budget" in result.note


def test_bootstrap_interval_widens_with_service_time_variability_and_holds_the_point_prediction():
    from edgebench.benchmarks.size.intervals import bootstrap
    from edgebench.benchmarks.size.predict import claim_pct
    level = claim_pct(Rules(0.99, 20.0, 459, 1.0).to_dict())
    rng = np.random.default_rng(3)
    steady = [5.0 * rng.lognormal(0, 0.05, 400)]
    jumpy = [5.0 * rng.lognormal(0, 0.35, 400)]
    a = bootstrap(1, steady, 20.0, level, rate=100.0)
    b = bootstrap(1, jumpy, 20.0, level, rate=100.0)
    point = predicted_capacity(1, ServiceModel(steady), 20.0, level)
    assert a["capacity"][0] <= point * 1.02 and point * 0.98 <= a["capacity"][1]
    width = lambda iv: (iv[1] - iv[0]) / iv[1]  # noqa: E731
    assert width(b["capacity"]) > width(a["capacity"]) and width(b["p99_ms"]) > width(a["p99_ms"])
    assert b["capacity"][1] < a["capacity"][0]  # a heavier tail carries less at the same SLO


def test_a_prediction_whose_checks_miss_or_that_ran_beside_other_work_is_not_the_answer():
    from edgebench.benchmarks.size.sizer import finish
    from edgebench.reports.sizing.text import answer_lines

    missed = _entry(800.0, 5.0)  # measured capacities 30-56% off the model's
    finish(missed)
    rec = missed["recommendation"]
    assert rec["status"] == "unreliable" and not missed["checks"]["reliable"]
    assert rec["layout"] == "2x1" and rec["capacity"] == 280.0 and rec["prediction"]["cores"] > 2
    lines = answer_lines(missed)
    assert "not carried by any measured layout: the best measured layout is 2x1" in lines[0]
    assert any("not reliable on this run (capacity missed by -56%" in ln for ln in lines)
    busy = _entry(800.0, 5.0, 1.03, (66.0, 205.0))
    for lay in busy["candidates"][0]["layouts"]:  # a CPU-bound neighbour on one of two cores during every point
        lay["points"] = [{"rate": 50.0, "valid": True, "percentile_ms": None, "other_cpu_cores": 1.0}]
    busy["cpus"] = [0, 1]
    finish(busy)
    assert busy["recommendation"]["status"] == "unreliable"
    assert busy["checks"]["unreliable_because"] == ["the machine was busy during load: other processes used 1.00 "
                                                    "of 2 cores"]


def test_every_layout_is_a_check_and_the_worst_miss_is_quoted():
    from edgebench.benchmarks.size.checks import miss
    from edgebench.benchmarks.size.sizer import finish

    assert miss(105.0, [100.0, 110.0]) == 0.0 and miss(90.0, [100.0, 110.0]) == pytest.approx(-0.1)
    assert miss(121.0, [100.0, 110.0]) == pytest.approx(0.1) and miss(130.0, [100.0, None]) == pytest.approx(0.3)
    entry = _entry(800.0, 5.0, 1.03, (66.0, 205.0))
    finish(entry)
    rows = entry["checks"]["layouts"]
    assert [r["layout"] for r in rows] == ["1x1", "2x1"]
    assert all(r["capacity_interval"][0] <= r["predicted_capacity"] <= r["capacity_interval"][1] for r in rows)
    worst = max(rows, key=lambda r: abs(r["capacity_miss"]))
    assert entry["checks"]["worst_capacity"]["layout"] == worst["layout"]
    cross = entry["checks"]["cross_core"][0]
    assert cross["from"] == "1x1" and cross["to"] == "2x1" and cross["capacity_error"] > 0  # no interference seen
    rec = entry["recommendation"]
    assert rec["status"] == "predicted" and rec["capacity_interval"][0] < rec["capacity"] < rec["capacity_interval"][1]
    assert rec["beyond"].endswith("from 2 measured (" + f"{rec['cores'] / 2:.1f}x)")


def test_a_single_checked_layout_does_not_make_a_prediction_reliable():
    """One layout agreeing with the model is no evidence for the layouts it never measured (a quiet rerun once called
    a 10-core extrapolation reliable on one checked layout)."""
    from edgebench.benchmarks.size.sizer import finish

    entry = _entry(800.0, 5.0, 1.03, (None, 205.0))  # the 1x1 layout had no VALID point
    finish(entry)
    checked = [r for r in entry["checks"]["layouts"] if isinstance(r.get("capacity_miss"), float)]
    assert len(checked) == 1 and not entry["checks"]["reliable"]
    assert any("only 1 measured layout(s) had a VALID point" in w for w in entry["checks"]["unreliable_because"])
