"""bench size with real instance processes and real LoadGen load, on the tiny model of the shared keras_run.

Every load point here is short (LoadGen's minimum of 459 queries at a few hundred req/s); the run directory is
copied first, so the shared fixture's own directory never gets a sizing.json (the browser tests count its charts).
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import test_report_browser
from conftest import load_results, run_bench
from test_report_browser import Page

from edgebench.benchmarks.size.candidates import pick_candidates
from edgebench.benchmarks.size.closed_loop import service_times
from edgebench.benchmarks.size.layouts import Layout, usable_cpus
from edgebench.benchmarks.size.open_loop import run_point
from edgebench.benchmarks.size.pool import InstancePool
from edgebench.benchmarks.size.validity import Rules

pytestmark = pytest.mark.slow
browser = test_report_browser.browser  # the module-scoped headless Chromium of the report's browser tests


@pytest.fixture(scope="module")
def run_copy(keras_run, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("size") / "run"
    shutil.copytree(keras_run[0], out)
    return out


@pytest.fixture(scope="module")
def sized(run_copy, tmp_path_factory) -> tuple[Path, object]:
    """One `bench size` of tflite-fp32 at fixed rates on 1x1 and 2x1: the CLI, sizing.json and the report."""
    run = tmp_path_factory.mktemp("sized") / "run"
    shutil.copytree(run_copy, run)
    proc = run_bench("size", "--from", str(run), "--slo", "p99=25ms", "--rate", "150", "--fast",
                     "--variants", "tflite-fp32", "--layouts", "1x1,2x1", "--rates", "60,150",
                     "--price-per-core-hour", "0.04", timeout=300)
    return run, proc


def _candidate(run_copy: Path, variant: str):
    cands = pick_candidates(load_results(run_copy), run_copy / "work", [variant])
    return cands[0][0]


def test_low_load_latency_matches_single_stream(run_copy):
    cand = _candidate(run_copy, "tflite-fp32")
    # a bound far above any latency of this model: the point is VALID unless the load itself goes wrong
    rules = Rules(0.99, 1000.0, min_queries=459, min_duration_s=1.0)
    with InstancePool(cand, Layout(1, 1), usable_cpus(), 60, None) as pool:
        alone = service_times(pool, 1, 1.0, 10.0)
        point = run_point(pool, 150.0, rules, 10.0, 60.0)
    single_p50, single_p99 = (float(np.percentile(alone["service_ms"], q)) for q in (50, 99))
    assert point["valid"], point["reason"]
    assert point["queries"] >= 459 and point["achieved_rate"] >= 0.99 * point["scheduled_rate"]
    assert len(point["latencies_ms"]) == point["queries"]
    # at ~2% utilisation a query almost never waits: its latency is one request's own. The margin is the wake-up of
    # an instance that slept between queries, which a closed loop never pays: milliseconds on a busy machine.
    assert point["p50_ms"] <= 2 * single_p50 + 3.0
    assert point["percentile_ms"] <= 2 * single_p99 + 10.0
    assert point["generator_cpu_cores"] < 1.0 and point["loadgen"]["result_validity"] == "VALID"


def test_overload_is_invalid(run_copy):
    cand = _candidate(run_copy, "tflite-fp32")
    rules = Rules(0.99, 1.0, min_queries=459, min_duration_s=0.5)
    with InstancePool(cand, Layout(1, 1), usable_cpus(), 60, None) as pool:
        alone = service_times(pool, 1, 0.5, 10.0)
        point = run_point(pool, 3 * alone["throughput_per_s"], rules, 10.0, 60.0)
    assert not point["valid"]
    assert "over the SLO" in point["reason"] or "fell behind" in point["reason"]


def test_crash_mid_load_is_an_invalid_point_and_stops_cleanly(run_copy, tmp_path):
    run = tmp_path / "crash"
    shutil.copytree(run_copy, run)
    proc = run_bench("size", "--from", str(run), "--slo", "p99=25ms", "--rate", "100", "--fast", "--variants",
                     "tflite-fp32", "--layouts", "1x1", "--rates", "150,200", env={"EDGEBENCH_FAULT": "serve:crash"},
                     timeout=300)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    entry = json.loads((run / "sizing.json").read_text())["sizings"][-1]
    first = entry["candidates"][0]["layouts"][0]
    assert len(first["points"]) == 1  # the search stopped at the failed point
    point = first["points"][0]
    assert not point["valid"] and "crashed with SIGSEGV" in point["reason"]
    assert "FAILED (below)" in proc.stdout
    assert any(ln.startswith("FAILED: instance 1 of 1x1") and "SIGSEGV" in ln for ln in proc.stdout.splitlines())


def test_size_answers_first_and_keeps_every_latency(sized):
    run, proc = sized
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("150 req/s at p99 <= 25 ms: ")
    assert "tflite-fp32 on LiteRT" in lines[0] and "per million inferences" in lines[0]
    table = lines[lines.index(next(ln for ln in lines if ln.startswith("variant "))):]
    assert all(len(ln) <= 100 for ln in table[:3]) and table[1].startswith("tflite-fp32")
    doc = json.loads((run / "sizing.json").read_text())
    assert doc["schema_version"] == "1.1"
    entry = doc["sizings"][-1]
    assert entry["status"] == "complete" and entry["driver"]["name"] == "mlcommons-loadgen"
    layouts = entry["candidates"][0]["layouts"]
    assert [lay["layout"] for lay in layouts] == ["1x1", "2x1"]
    for lay in layouts:
        assert [p["rate"] for p in lay["points"]] == [60.0, 150.0]
        assert all(len(p["latencies_ms"]) == p["queries"] >= 459 for p in lay["points"])
        assert [c["busy"] for c in lay["interference"]] == list(range(1, lay["instances"] + 1))
        assert lay["predicted"]["capacity"] > 0
    assert layouts[1]["cpus"] == [[0], [1]] or len(usable_cpus()) < 2
    held_out = entry["candidates"][0]["held_out"]
    assert held_out["layout"] == "2x1" and held_out["pairs"] and len(held_out["measured_bracket"]) == 2
    # the simulation's service times come from the open-loop calibration point, which is not a check
    for lay in layouts:
        served = lay["calibration"]["served"]
        assert served["service_ms"] and set(served["busy"]) <= set(range(1, lay["instances"] + 1))
        assert all(len(p["served"]["service_ms"]) == p["queries"] for p in lay["points"])
        assert all(p["other_cpu_cores"] is None or p["other_cpu_cores"] >= 0 for p in lay["points"])
    checks = entry["checks"]
    assert [r["layout"] for r in checks["layouts"]] == ["1x1", "2x1"]
    assert all(r["service"] == "open-loop calibration" and len(r["capacity_interval"]) == 2
               for r in checks["layouts"])
    assert checks["cross_core"][0]["from"] == "1x1" and checks["cross_core"][0]["to"] == "2x1"
    assert isinstance(checks["reliable"], bool) and (checks["reliable"] or checks["unreliable_because"])
    assert any("worst error over 2 measured layouts" in ln for ln in lines)


def test_slo_below_one_request_cannot_be_met(run_copy, tmp_path):
    run = tmp_path / "tight"
    shutil.copytree(run_copy, run)
    proc = run_bench("size", "--from", str(run), "--slo", "p99=1us", "--rate", "100", "--fast", "--variants",
                     "tflite-fp32", "--layouts", "1x1", timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "cannot be met on this CPU at any size" in proc.stdout.splitlines()[0]


def test_bad_size_input_is_one_line(run_copy):
    for args in (["--slo", "p99", "--rate", "10"], ["--slo", "p99=10ms", "--rate", "-3"],
                 ["--from", str(run_copy / "nope"), "--slo", "p99=10ms", "--rate", "10"],
                 ["--from", str(run_copy), "--slo", "p99=10ms", "--rate", "10", "--variants", "nope"]):
        proc = run_bench("size", *args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_sizing_section_renders_in_chromium(sized, browser, tmp_path):
    run, proc = sized
    assert proc.returncode == 0, proc.stderr
    page = Page(browser, run / "report.html")
    state = {c["key"]: c for c in page.wait_for_charts()}
    for key in ("sizing-load", "sizing-interference", "sizing-capacity", "sizing-checks"):
        chart = state[key]
        assert chart["traces"] > 0 and chart["svg"] >= 1 and chart["marks"] > 0, chart
        assert chart["width"] > 600 and chart["height"] > 200, chart
    assert page.errors == []
    sizing = page.page.inner_text("#sizing")
    assert sizing.startswith("Sizing (bench size)") and "150 req/s at p99 <= 25 ms" in sizing
    # the SLO line is drawn in the load chart, named in its legend
    legend = page.page.evaluate("() => [...document.querySelectorAll('#fig-sizing-load .legendtext')]"
                                ".map(t => t.textContent)")
    assert "SLO p99 25 ms" in legend, legend
    page.page.locator("#sizing").screenshot(path=str(tmp_path / "sizing.png"))
    assert (tmp_path / "sizing.png").stat().st_size > 5_000


def test_interrupt_keeps_what_was_measured(run_copy, tmp_path):
    import os
    import signal
    import subprocess
    import time

    from conftest import BENCH

    run = tmp_path / "stopped"
    shutil.copytree(run_copy, run)
    proc = subprocess.Popen([*BENCH, "size", "--from", str(run), "--slo", "p99=25ms", "--rate", "100", "--fast",
                             "--variants", "tflite-fp32", "--layouts", "1x1,2x1", "--rates", "300,300"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    deadline = time.monotonic() + 120
    while not (run / "sizing.json").exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)  # written once the first layout is measured
    proc.send_signal(signal.SIGTERM)  # bench treats SIGTERM as Ctrl-C
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "what was measured is in" in err and "Traceback" not in err
    entry = json.loads((run / "sizing.json").read_text())["sizings"][-1]
    assert entry["status"] == "interrupted"
    first = entry["candidates"][0]["layouts"][0]
    assert first["layout"] == "1x1" and len(first["points"]) == 2 and first["points"][0]["latencies_ms"]


def test_a_target_that_is_not_the_host_gets_an_answer_about_the_host(arm_run, tmp_path):
    run = tmp_path / "arm"
    shutil.copytree(arm_run[0], run)
    proc = run_bench("size", "--from", str(run), "--slo", "p99=50ms", "--rate", "50", "--fast", "--layouts", "1x1",
                     "--rates", "100", timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert any(ln.startswith("note: profile arm64 targets arm64") and "the answer is about the host" in ln
               for ln in proc.stdout.splitlines()), proc.stdout
