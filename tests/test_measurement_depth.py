"""Sweeps, environment, instability under load, operator profiles and `bench compare` on real runs."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from conftest import build_tiny_classifier, load_results, run_bench


def test_environment_is_recorded(keras_run):
    out, _ = keras_run
    host = load_results(out)["host"]
    for key in ("cpu_model", "kernel_flags", "cores", "governor", "load_avg_start", "cpu_busy_at_start", "packages",
                "host_id", "arch"):
        assert key in host
    assert {"onnxruntime", "ai-edge-litert", "pyperf", "numpy"} <= set(host["packages"])
    assert isinstance(host["kernel_flags"], list)


def test_arena_on_and_off_are_both_measured(keras_run):
    out, _ = keras_run
    labels = {r["settings_label"] for r in load_results(out)["results"] if r["runtime"] == "onnxruntime"}
    assert labels == {"arena-on", "arena-off"}
    recs = {r["settings_label"]: r for r in load_results(out)["results"] if r["runtime"] == "onnxruntime"}
    assert recs["arena-off"]["runtime_settings"]["enable_cpu_mem_arena"] is False
    assert recs["arena-on"]["benchmark"].endswith("/arena-on")


@pytest.mark.slow
def test_thread_and_batch_sweep(tiny_models, tmp_path):
    out = tmp_path / "sweep"
    proc = run_bench("run", str(tiny_models["onnx"]), "--profile", "mobile", "--fast", "--threads", "1,2",
                     "--batch", "1,3", "--variants", "onnx-fp32", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    recs = load_results(out)["results"]
    assert sorted((r["threads"], r["batch"]) for r in recs) == [(1, 1), (1, 3), (2, 1), (2, 3)]
    for r in recs:
        assert r["throughput_ips"] == pytest.approx(r["batch"] * 1000 / r["latency_ms"]["median"])
        assert r["cold_start"]["load_ms"] > 0 and r["cold_start"]["first_inference_ms"] > 0
    assert any(r["benchmark"].endswith("/t2/b3") for r in recs)


def test_op_profile_names_the_dominant_operator(tiny_models, tmp_path):
    out = tmp_path / "prof"
    proc = run_bench("run", str(tiny_models["onnx"]), "--profile", "mobile", "--fast", "--threads", "1",
                     "--variants", "onnx-fp32", "--op-profile", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    prof = load_results(out)["op_profiles"]["onnx-fp32"]
    ops = {o["op_type"]: o for o in prof["operators"]}
    assert "Conv" in ops and sum(o["share"] for o in prof["operators"]) == pytest.approx(1.0)
    assert ops["Conv"]["nodes"] >= 1
    assert (out / prof["file"]).is_file() and (out / "op_profile" / prof["trace"]).is_file()
    assert "operator profile onnx-fp32" in proc.stdout and "Conv" in proc.stdout


def _busy_loops(n: int, seconds: float) -> list[subprocess.Popen]:
    code = f"import time\nend = time.time() + {seconds}\nwhile time.time() < end: pass"
    return [subprocess.Popen([sys.executable, "-c", code]) for _ in range(n)]


@pytest.mark.slow
def test_instability_is_flagged_under_cpu_load(tiny_models, tmp_path):
    # twice as many busy processes as cores, so every core is contended on a 2-core VM and on a 16-core server
    hogs = _busy_loops(2 * (os.cpu_count() or 2), 90)
    try:
        time.sleep(1.0)
        out = tmp_path / "loaded"
        proc = run_bench("run", str(tiny_models["onnx"]), "--profile", "mobile", "--fast", "--threads", "1",
                         "--variants", "onnx-fp32", "--out", str(out))
    finally:
        for h in hogs:
            h.kill()
            h.wait()
    assert proc.returncode == 0, proc.stderr
    doc = load_results(out)
    assert any("machine busy" in w for w in doc["warnings"])
    assert any(r["warnings"] for r in doc["results"]), [r["latency_ms"] for r in doc["results"]]
    assert "unstable" in proc.stdout


@pytest.fixture(scope="module")
def slower_keras(tmp_path_factory):
    path = tmp_path_factory.mktemp("big") / "bigger.keras"
    build_tiny_classifier(size=96, filters=64).save(path)
    return path


@pytest.mark.slow
def test_compare_two_real_runs_and_exit_code(keras_run, slower_keras, tmp_path):
    fast_run, _ = keras_run
    slow_run = tmp_path / "slow"
    proc = run_bench("run", str(slower_keras), "--profile", "x86_64", "--fast", "--threads", "1",
                     "--variants", "onnx-fp32", "--out", str(slow_run))
    assert proc.returncode == 0, proc.stderr

    same = run_bench("compare", str(fast_run), str(fast_run), "--fail-on-regression", "1", "--json")
    assert same.returncode == 0, same.stderr
    rows = json.loads(same.stdout)["rows"]
    assert rows and all(r["ratio"] == pytest.approx(1.0) for r in rows)
    # a screened record (one or two short processes) is never judged, not even against itself
    assert {r["verdict"] for r in rows} == {"same", "not compared: screened"}

    worse = run_bench("compare", str(fast_run), str(slow_run / "results.json"), "--fail-on-regression", "10")
    assert worse.returncode == 1, worse.stdout + worse.stderr
    assert "slower" in worse.stdout and "regression beyond 10%" in worse.stderr
    better = run_bench("compare", str(slow_run), str(fast_run), "--fail-on-regression", "10")
    assert better.returncode == 0 and "faster" in better.stdout
    # matched on runtime/variant/threads/batch: the LiteRT record of the fast run has no partner
    assert "tflite-fp32" not in better.stdout


def test_compare_refuses_unrelated_input(tmp_path):
    bad = tmp_path / "results.json"
    bad.write_text('{"hello": 1}')
    proc = run_bench("compare", str(bad), str(bad))
    assert proc.returncode == 2 and "not an edgebench results file" in proc.stderr and "Traceback" not in proc.stderr
