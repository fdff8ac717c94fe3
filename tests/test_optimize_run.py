"""`bench run` and `bench optimize` with the profiles' optimizer passes, end to end on tiny models."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import load_results, run_bench

from edgebench.benchmarks.variants.specs import plan_variants, registry
from edgebench.hardware_profiles import ProfileError, load_profile
from edgebench.optimizers.artifacts import sha256_path


@pytest.fixture(scope="module")
def x86_runs(quant_models, tmp_path_factory):
    """The whole x86_64 profile on the quantizable classifier at 1 thread, twice with the same cache: a cache of
    their own, so passes that other tests already ran on the same model cannot make the first run a partial one."""
    root = tmp_path_factory.mktemp("x86")
    env = {"EDGEBENCH_CACHE": str(root / "cache")}
    procs = []
    for n in (1, 2):
        procs.append(run_bench("run", str(quant_models["keras"]), "--profile", "x86_64", "--fast", "--threads", "1",
                               "--data", str(quant_models["data"]), "--out", str(root / f"run{n}"), env=env))
    return [(root / f"run{n}", p) for n, p in zip((1, 2), procs)]


@pytest.mark.slow
def test_x86_profile_builds_and_measures_every_applicable_variant(x86_runs):
    out, proc = x86_runs[0]
    assert proc.returncode == 0, proc.stderr
    doc = load_results(out)
    planned = {s.name for s in plan_variants(None, load_profile("x86_64"))}
    measured = {r["variant"] for r in doc["results"]}
    # the CNN has no attention / layer norm: that pass is skipped with a note, every other one is measured
    assert measured == planned - {"onnx-transformer-optimized"}
    assert any("onnx-transformer-optimized skipped: no attention or layer-norm" in n for n in doc["notes"])
    for rec in doc["results"]:
        assert rec["status"] == "ok", rec["error"]
        assert rec["model_bytes"] > 0 and {"cosine", "top1_agreement", "max_abs_error"} <= set(rec["accuracy"])
        assert isinstance(rec["accuracy_budget"]["ok"], bool)
        lineage = rec["artifact"]["lineage"]
        assert lineage[0]["pass"] == "source" and lineage[0]["sha256"] == doc["model"]["sha256"]
        assert lineage[-1]["sha256"] == rec["artifact"]["sha256"]
        for parent, child in zip(lineage, lineage[1:]):
            assert child["parent"] == parent["sha256"]
        assert sha256_path(rec["artifact"]["path"]) == rec["artifact"]["sha256"]
    by = {r["variant"]: r for r in doc["results"]}
    assert [e["pass"] for e in by["onnx-static-int8-qop-u8u8"]["artifact"]["lineage"]] == [
        "source", "keras-export", "tf2onnx-savedmodel", "quant-pre-process", "ort-static-quant"]
    assert by["onnx-static-int8-qop-u8u8"]["artifact"]["settings"]["format"] == "QOperator"
    assert by["onnx-static-int8-qdq-s8s8"]["artifact"]["settings"]["activation_type"] == "int8"
    assert by["tflite-dynamic-int8"]["pass_notes"] == ["partly quantized: 1 of 3 Conv/MatMul/Gemm-like ops in int8"]
    assert by["tflite-int8"]["model_bytes"] < by["tflite-fp32"]["model_bytes"]
    assert "partly quantized: 1 of 3" in proc.stdout  # the pass note is in the table too


@pytest.mark.slow
def test_fastest_quantized_variant_within_budget_is_recommended(x86_runs, tmp_path):
    out, proc = x86_runs[0]
    doc = load_results(out)
    reg = registry(load_profile("x86_64"))
    assert {r["variant"] for r in doc["results"] if reg[r["variant"]].group == "quantized"} >= {
        "tflite-int8", "tflite-dynamic-int8", "onnx-dynamic-int8", "onnx-static-int8-qop-u8u8"}
    configs = {(r["runtime"], r["settings_label"]) for r in doc["results"]}  # ORT: arena on and off
    assert ("litert", None) in configs and ("onnxruntime", "arena-on") in configs
    for runtime, label in configs:
        same = [r for r in doc["results"] if (r["runtime"], r["settings_label"]) == (runtime, label)]
        cands = [r for r in same if reg[r["variant"]].group == "quantized"]
        within = [r for r in cands if r["accuracy_budget"]["ok"]]
        marked = [r for r in same if r["recommended"]]
        where = f"{runtime} t1" + (f" [{label}]" if label else "")
        if within:
            best = min(within, key=lambda r: r["latency_ms"]["median"])
            assert marked == [best]
            assert any(n.startswith(f"{where}: recommended quantized variant {best['variant']}") for n in doc["notes"])
        else:
            assert marked == []
    # the short table flags the decision's picks only; the wide table (bench run --wide, bench report --table wide)
    # spells out the recommended quantized variant of every configuration
    assert "P the pick, overall or of its runtime" in proc.stdout
    wide = run_bench("report", str(out), "-o", str(tmp_path / "r.html"), "--table", "wide")
    assert wide.returncode == 0 and "RECOMMENDED" in wide.stdout


@pytest.mark.slow
def test_second_run_converts_nothing(x86_runs):
    (first, p1), (second, p2) = x86_runs
    assert p2.returncode == 0, p2.stderr
    d1, d2 = load_results(first), load_results(second)
    assert any(n.startswith("conversions: 14 pass(es) run") for n in d1["notes"]), d1["notes"]
    assert any(n.startswith("conversions: 0 pass(es) run, 14 file(s) reused") for n in d2["notes"]), d2["notes"]
    assert all(r["artifact"]["reused"] for r in d2["results"])
    assert ({r["variant"]: r["artifact"]["sha256"] for r in d1["results"]}
            == {r["variant"]: r["artifact"]["sha256"] for r in d2["results"]})


@pytest.mark.slow
def test_failing_pass_leaves_a_failed_record_and_the_rest_continue(quant_models, tmp_path):
    out = tmp_path / "det"
    proc = run_bench("run", str(quant_models["det"]), "--profile", "x86_64", "--fast", "--threads", "1",
                     "--variants", "tflite-fp32,tflite-int8,onnx-fp32,onnx-static-int8-qop-u8u8",
                     "--data", str(quant_models["det_data"]), "--out", str(out))
    assert proc.returncode == 1, proc.stderr  # some benchmark failed; the others are kept
    by = {r["variant"]: r for r in load_results(out)["results"]}
    for name in ("tflite-fp32", "tflite-int8"):
        assert by[name]["status"] == "failed" and "\n" not in by[name]["error"]
        assert "MatrixDeterminant" in by[name]["error"] and by[name]["error"].startswith("conversion failed")
    assert by["onnx-fp32"]["status"] == "ok" and by["onnx-static-int8-qop-u8u8"]["status"] == "ok"
    assert by["onnx-static-int8-qop-u8u8"]["pass_notes"][0].startswith("quantized:")
    assert "FAILED: conversion failed" in proc.stdout


def test_random_calibration_is_flagged(quant_models, tmp_path):
    out = tmp_path / "rand"
    proc = run_bench("optimize", str(quant_models["keras"]), "--profile", "x86_64", "--variants",
                     "tflite-int8", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["calibration_data"]["kind"] == "random"
    assert any("CALIBRATED ON RANDOM DATA" in n for n in manifest["variants"][0]["notes"])
    assert "warning: CALIBRATED ON RANDOM DATA" in proc.stdout


@pytest.mark.slow
def test_optimize_writes_deployable_files_and_lineage_manifest(quant_models, tmp_path):
    out = tmp_path / "mobile"
    proc = run_bench("optimize", str(quant_models["keras"]), "--profile", "mobile", "--data",
                     str(quant_models["data"]), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["profile"]["name"] == "mobile" and manifest["calibration_data"]["kind"] == "user"
    entries = {e["variant"]: e for e in manifest["variants"]}
    assert set(entries) == {s.name for s in plan_variants(None, load_profile("mobile"))}
    for e in entries.values():
        assert e["status"] == "ok"
        f = out / e["file"]
        assert sha256_path(f) == e["sha256"] and f.stat().st_size == e["size_bytes"]
        assert e["lineage"][-1]["sha256"] == e["sha256"] and e["lineage"][0]["pass"] == "source"
    ort = entries["ort-format"]
    assert ort["file"] == "ort-format.ort" and (out / "ort-format.required_operators.config").is_file()
    # the mobile profile makes its .ort from the int8 model it would ship
    assert ort["parent"] == entries["onnx-static-int8"]["sha256"]
    assert entries["tflite-int8-io"]["settings"]["io_type"] == "int8"
    from ai_edge_litert import interpreter as litert
    assert litert.Interpreter(model_path=str(out / "tflite-int8-io.tflite")).get_input_details()[0]["dtype"].__name__ == "int8"
    import onnxruntime as ort_rt
    ort_rt.InferenceSession(str(out / "ort-format.ort"), providers=["CPUExecutionProvider"])  # loads

    again = run_bench("optimize", str(quant_models["keras"]), "--profile", "mobile", "--data",
                      str(quant_models["data"]), "--out", str(tmp_path / "mobile2"))
    assert again.returncode == 0 and "conversions: 0 pass(es) run" in again.stdout


@pytest.mark.slow
def test_arm64_profile_uses_arm64_quantization_settings(quant_models, tmp_path):
    out = tmp_path / "arm"
    proc = run_bench("optimize", str(quant_models["keras"]), "--profile", "arm64", "--variants",
                     "onnx-static-int8,onnx-optimized", "--data", str(quant_models["data"]), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    entries = {e["variant"]: e for e in json.loads((out / "manifest.json").read_text())["variants"]}
    assert list(entries) == ["onnx-static-int8-qdq-s8s8", "onnx-static-int8-qop-u8s8", "onnx-optimized"]
    s8 = entries["onnx-static-int8-qdq-s8s8"]["settings"]
    assert (s8["format"], s8["activation_type"], s8["weight_type"], s8["reduce_range"]) == ("QDQ", "int8", "int8", False)
    assert entries["onnx-optimized"]["settings"]["level"] == "extended"  # portable across ARM cores


def test_unknown_variant_is_a_user_error(quant_models, tmp_path):
    proc = run_bench("optimize", str(quant_models["keras"]), "--variants", "onnx-int3", "--out", str(tmp_path / "o"))
    assert proc.returncode == 2 and "unknown variant 'onnx-int3'" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("toml,needle", [
    ('[quantization]\nsurprise = 1\n', "unknown key(s) surprise"),
    ('[[quantization.onnx_static]]\nname = "a"\nformat = "QDQQ"\n', "format must be one of QDQ, QOperator"),
    ('[[quantization.onnx_static]]\nname = "a"\n[[quantization.onnx_static]]\nname = "a"\n', "must be unique"),
    ('[[quantization.onnx_static]]\nname = "a"\nactivation_type = "int4"\n', "activation_type must be one of"),
    ('[quantization.onnx_dynamic]\nweight_type = "fp8"\n', "weight_type must be one of"),
    ('[quantization]\ncalibration_samples = 0\n', "calibration_samples"),
    ('[optimization]\nonnx_offline_level = "max"\n', "onnx_offline_level"),
])
def test_invalid_optimizer_settings_are_refused_at_load(tmp_path, toml, needle):
    f = tmp_path / "p.toml"
    f.write_text('name = "p"\ntarget_arch = "x86_64"\n' + toml)
    with pytest.raises(ProfileError) as err:
        load_profile(str(f))
    assert needle in str(err.value)


def test_static_family_name_expands_to_every_candidate():
    names = [s.name for s in plan_variants(["onnx-fp32", "onnx-static-int8"], load_profile("x86_64"))]
    assert names == ["onnx-fp32", "onnx-static-int8-qop-u8u8", "onnx-static-int8-qop-u8s8",
                     "onnx-static-int8-qdq-u8s8", "onnx-static-int8-qdq-s8s8"]
    assert [s.name for s in plan_variants(["onnx-static-int8"], load_profile("mobile"))] == ["onnx-static-int8"]


def test_recommendation_ignores_faster_variants_over_budget():
    from edgebench.benchmarks.run.candidates import mark_recommended

    def rec(variant: str, median: float, ok: bool | None) -> dict:
        return {"runtime": "onnxruntime", "variant": variant, "threads": 1, "batch": 1, "status": "ok",
                "latency_ms": {"median": median}, "accuracy_budget": None if ok is None else {"ok": ok}}
    records = [rec("onnx-fp32", 2.0, True), rec("q-fast-bad", 0.5, False), rec("q-ok", 1.0, True),
               rec("q-slow-ok", 1.5, True), rec("q-unknown", 0.7, None)]
    groups = {"q-fast-bad": "quantized", "q-ok": "quantized", "q-slow-ok": "quantized", "q-unknown": "quantized"}
    notes = mark_recommended(records, groups)
    assert [r["variant"] for r in records if r["recommended"]] == ["q-ok"]
    assert notes == ["onnxruntime t1: recommended quantized variant q-ok (1.000 ms = 0.50x onnx-fp32; "
                     "fastest of 4 within the accuracy budget)"]
    for r in records:
        if r["variant"] != "onnx-fp32":
            r["accuracy_budget"] = {"ok": False}
    assert "no quantized variant stays within the accuracy budget; the fastest, q-fast-bad" in \
        mark_recommended(records, groups)[0]
    assert not any(r["recommended"] for r in records)


@pytest.mark.slow
def test_ort_format_and_fp32_run_on_the_mobile_profile(quant_models, tmp_path):
    out = tmp_path / "mob"
    proc = run_bench("run", str(quant_models["keras"]), "--profile", "mobile", "--fast", "--threads", "1",
                     "--variants", "onnx-fp32,ort-format", "--data", str(quant_models["data"]), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    by = {r["variant"]: r for r in load_results(out)["results"]}
    assert Path(by["ort-format"]["artifact"]["path"]).suffix == ".ort"
    assert by["ort-format"]["status"] == "ok" and by["ort-format"]["accuracy"]["cosine"] > 0.98
