"""`bench run` end to end on tiny models: the results contract, pyperf.json, accuracy and the table."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import load_results, run_bench

from edgebench.results.contract import REQUIRED_RECORD_KEYS, SCHEMA_VERSION

LATENCY_KEYS = {"median", "mean", "stdev", "p90", "p99", "min", "max", "n"}
CI_KEYS = {"median_ci", "p99_ci"}  # p99_ci only where n allows a 95% bound (n >= 368)


def test_keras_run_writes_the_results_contract(keras_run):
    out, proc = keras_run
    assert proc.returncode == 0, proc.stderr
    doc = load_results(out)
    assert doc["schema_version"] == SCHEMA_VERSION
    for key in ("created", "host", "profile", "model", "results"):
        assert key in doc
    assert doc["profile"]["name"] == "x86_64"
    assert doc["model"]["format"] == "keras" and doc["model"]["reference"].startswith("source model in Keras")
    runtimes = {(r["runtime"], r["variant"]) for r in doc["results"]}
    assert runtimes == {("litert", "tflite-fp32"), ("onnxruntime", "onnx-fp32")}
    for rec in doc["results"]:
        assert set(REQUIRED_RECORD_KEYS) <= set(rec)
        assert rec["status"] == "ok" and rec["error"] is None
        assert rec["threads"] == 1
        lat = rec["latency_ms"]
        assert LATENCY_KEYS | {"median_ci"} <= set(lat) <= LATENCY_KEYS | CI_KEYS
        assert lat["median_ci"][0] <= lat["median"] <= lat["median_ci"][1]
        assert 0 < lat["min"] <= lat["median"] <= lat["p90"] <= lat["p99"] <= lat["max"]
        assert lat["n"] >= 30  # 3 processes x at least 10 single-inference values
        assert rec["cold_start_ms"] > 0 and rec["cold_start"]["load_ms"] > 0
        assert rec["peak_rss_mb"] is not None and rec["memory"]["rss_after_import_mb"] > 0
        assert rec["model_bytes"] > 0
        art = rec["artifact"]
        assert len(art["sha256"]) == 64 and art["parent"] and art["pass"]
        assert rec["measured_on"]["arch"] == doc["host"]["arch"]
        # fp32 conversions of the same network agree with Keras to float rounding
        acc = rec["accuracy"]
        assert acc["max_abs_error"] < 1e-3 and acc["cosine"] > 0.9999 and acc["top1_agreement"] == 1.0
        assert acc["top1_accuracy"] == 1.0  # the labels are the Keras model's own predictions
        assert acc["data"] == "user"


def test_pyperf_json_is_read_by_pyperf(keras_run):
    out, _ = keras_run
    show = subprocess.run([sys.executable, "-m", "pyperf", "show", str(out / "pyperf.json")],
                          capture_output=True, text=True)
    assert show.returncode == 0, show.stderr
    assert "tiny/litert/tflite-fp32/t1" in show.stdout and "tiny/onnxruntime/onnx-fp32/t1" in show.stdout
    import pyperf
    suite = pyperf.BenchmarkSuite.load(str(out / "pyperf.json"))
    doc = load_results(out)
    for bench in suite.get_benchmarks():
        rec = next(r for r in doc["results"] if r["benchmark"] == bench.get_name())
        # the record's statistics are computed from exactly these raw samples
        assert rec["latency_ms"]["n"] == len(bench.get_values())
        assert rec["latency_ms"]["median"] == pytest.approx(bench.median() * 1e3)


def test_table_is_printed_as_plain_text_when_piped(keras_run):
    _, proc = keras_run
    assert "median ms" in proc.stdout and "tflite-fp32" in proc.stdout and "onnx-fp32" in proc.stdout
    assert "\x1b[" not in proc.stdout


def test_tflite_source_is_converted_to_onnx(tiny_models, tmp_path):
    out = tmp_path / "tfl"
    proc = run_bench("run", str(tiny_models["tflite"]), "--fast", "--threads", "1", "--variants", "tflite-fp32,onnx-fp32",
                     "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    doc = load_results(out)
    by_variant = {r["variant"]: r for r in doc["results"]}
    assert by_variant["tflite-fp32"]["artifact"]["pass"] == "source"
    assert by_variant["onnx-fp32"]["artifact"]["pass"] == "tf2onnx-tflite"
    assert by_variant["onnx-fp32"]["accuracy"]["max_abs_error"] < 1e-3
    assert doc["model"]["reference"].startswith("source .tflite")
    assert doc["data"]["kind"] == "random" and any("RANDOM" in w for w in doc["warnings"])


def test_onnx_source_says_how_its_litert_variants_are_made(tiny_models, tmp_path):
    out = tmp_path / "onnx"
    proc = run_bench("run", str(tiny_models["onnx"]), "--fast", "--threads", "1", "--variants", "onnx-fp32",
                     "--out", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)  # --json: stdout is results.json and nothing else
    assert {r["variant"] for r in doc["results"]} == {"onnx-fp32"}
    assert any("LiteRT variants are converted with onnx2tf" in n for n in doc["notes"])


def test_savedmodel_source(tiny_models, tmp_path):
    out = tmp_path / "sm"
    proc = run_bench("run", str(tiny_models["savedmodel"]), "--fast", "--threads", "1", "--variants", "tflite-fp32",
                     "--data", str(tiny_models["data"]), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    rec = load_results(out)["results"][0]
    assert rec["variant"] == "tflite-fp32" and rec["accuracy"]["top1_agreement"] == 1.0


def test_arm64_profile_on_x86_host_labels_host_timings(tiny_models, tmp_path):
    from edgebench.hardware_profiles import host_arch
    if host_arch() == "arm64":
        pytest.skip("host is arm64: timings are the target's")
    out = tmp_path / "arm"
    proc = run_bench("run", str(tiny_models["onnx"]), "--profile", "arm64", "--fast", "--threads", "1",
                     "--variants", "onnx-fp32", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    doc = load_results(out)
    assert all(r["timing_scope"] == "host" and not r["measured_on"]["host_is_target"] for r in doc["results"])
    assert any("HOST timing" in w for w in doc["warnings"])
    assert "HOST TIMINGS" in proc.stdout
