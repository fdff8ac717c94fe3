"""One benchmark's failure (crash, hang, memory, missing operator, crashing converter) is a failed record with a
one-line reason; the rest of the matrix is measured and the main process carries on.

Faults come from tiny purpose-made models or from the EDGEBENCH_FAULT hook (benchmarks/isolation/faults.py) in real workers.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import load_results, run_bench
from reliability_models import onnx_needing_memory, tflite_with_op


def _by_key(doc: dict) -> dict:
    return {(r["runtime"], r["threads"], r.get("settings_label")): r for r in doc["results"]}


def _pyperf_names(out: Path) -> set[str]:
    import pyperf
    return {b.get_name() for b in pyperf.BenchmarkSuite.load(str(out / "pyperf.json")).get_benchmarks()}


def _matches(rec: dict, failed: dict) -> bool:
    return all(rec.get(k) == v for k, v in failed.items())


def _assert_isolated(proc, out: Path, failed: dict, reason: str) -> dict:
    """The records matching `failed` (and only they) failed, each with `reason` on one line; the others are measured."""
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout
    doc = load_results(out)
    bad = [r for r in doc["results"] if _matches(r, failed)]
    assert bad
    for r in bad:
        assert r["status"] == "failed" and reason in r["error"] and "\n" not in r["error"], r["error"]
        assert f"FAILED: {r['error']}" in proc.stdout  # the table shows the same reason
    others = [r for r in doc["results"] if not _matches(r, failed)]
    assert others and all(r["status"] == "ok" and r["latency_ms"]["n"] > 0 for r in others)
    assert {r["benchmark"] for r in others} <= _pyperf_names(out)
    return doc


def _leftovers(run_id: str) -> list[int]:
    """Processes that still carry this run's id (children of the run that outlived it)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                env = Path(f"/proc/{entry}/environ").read_bytes()
            except OSError:
                continue
            if f"EDGEBENCH_RUN_ID={run_id}".encode() in env:
                found.append(int(entry))
    return found


def _profile_with_limit(tmp_path: Path, max_rss_mb: int) -> Path:
    text = Path(__file__).resolve().parents[1].joinpath("hardware_profiles", "x86_64.toml").read_text()
    prof = tmp_path / "limited.toml"
    prof.write_text(text.replace('name = "x86_64"', 'name = "limited"') + f"\n[limits]\nmax_rss_mb = {max_rss_mb}\n")
    return prof


# the two baseline variants only: the built-in profiles also build every quantized candidate, which these faults
# do not need and which would multiply the time they take
PLAIN = ["--fast", "--variants", "tflite-fp32,onnx-fp32"]
LITERT = {"runtime": "litert"}
ORT = {"runtime": "onnxruntime"}


@pytest.mark.slow
@pytest.mark.parametrize("fault,failed,reason", [
    ("run:crash@litert", LITERT, "benchmark worker crashed with SIGSEGV (segmentation fault)"),
    ("evaluate:abort@litert", LITERT, "load test failed: loading the model in litert crashed with SIGABRT"),
])
def test_a_crashing_runtime_costs_its_own_record(tiny_models, tmp_path, fault, failed, reason):
    out = tmp_path / "run"
    proc = run_bench("run", str(tiny_models["tflite"]), *PLAIN, "--threads", "1", "--out", str(out),
                     env={"EDGEBENCH_FAULT": fault})
    _assert_isolated(proc, out, failed, reason)


@pytest.mark.slow
def test_a_hang_is_stopped_at_the_timeout(tiny_models, tmp_path):
    out = tmp_path / "run"
    t0 = time.monotonic()
    # x86_64 measures ONNX Runtime with its arena on and off: only the arena-off benchmark hangs
    proc = run_bench("run", str(tiny_models["onnx"]), *PLAIN, "--threads", "1", "--timeout", "20", "--out", str(out),
                     env={"EDGEBENCH_FAULT": "run:hang@arena-off"})
    assert time.monotonic() - t0 < 120
    doc = _assert_isolated(proc, out, {"settings_label": "arena-off"}, "did not finish within 20 s (hang or too slow")
    assert _leftovers(doc["run_options"]["run_id"]) == []  # the hung worker was killed with its process group


def test_a_worker_over_the_memory_limit_is_stopped(tiny_models, tmp_path):
    out = tmp_path / "run"
    proc = run_bench("run", str(tiny_models["tflite"]), "--profile", str(_profile_with_limit(tmp_path, 300)), *PLAIN,
                     "--threads", "1", "--out", str(out), env={"EDGEBENCH_FAULT": "run:oom@onnxruntime"})
    doc = _assert_isolated(proc, out, ORT,
                           "benchmark worker exceeded the profile's memory limit ([limits] max_rss_mb = 300)")
    assert doc["profile"]["limits"] == {"max_rss_mb": 300}


@pytest.mark.slow
def test_a_model_that_needs_more_memory_than_the_profile_allows(tmp_path):
    model = onnx_needing_memory(tmp_path / "needs-256mb.onnx", 256)
    out = tmp_path / "run"
    proc = run_bench("run", str(model), "--profile", str(_profile_with_limit(tmp_path, 200)), *PLAIN, "--threads", "1",
                     "--out", str(out))
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    records = load_results(out)["results"]
    assert records and all(r["status"] == "failed" for r in records)
    for rec in records:
        assert "exceeded the profile's memory limit ([limits] max_rss_mb = 200): a process reached" in rec["error"]


@pytest.mark.slow
def test_a_crashing_converter_costs_one_variant_and_tensorflow_stays_out_of_the_main_process(tiny_models, tmp_path):
    out = tmp_path / "run"
    # the CLI's own main(), in a fresh interpreter that reports afterwards whether it ever imported TensorFlow
    code = ("import sys; from edgebench.benchmarks.cli import main; rc = main(sys.argv[1:]); "
            "print('TF-IN-MAIN', 'tensorflow' in sys.modules); sys.exit(rc)")
    proc = subprocess.run([sys.executable, "-c", code, "run", str(tiny_models["keras"]), *PLAIN, "--threads", "1",
                           "--data", str(tiny_models["data"]), "--out", str(out)], capture_output=True, text=True,
                          env=dict(os.environ, EDGEBENCH_FAULT="convert:crash@onnx-fp32"), timeout=600)
    doc = _assert_isolated(proc, out, ORT,
                           "conversion failed: building onnx-fp32 crashed with SIGSEGV (segmentation fault)")
    assert "TF-IN-MAIN False" in proc.stdout
    # the converter child was replaced after the crash: the reference outputs still came from Keras
    tfl = _by_key(doc)[("litert", 1, None)]
    assert doc["model"]["reference"] == "source model in Keras" and tfl["accuracy"]["top1_agreement"] == 1.0


@pytest.mark.slow
def test_a_crashing_reference_leaves_the_measurements_and_says_so(tiny_models, tmp_path):
    out = tmp_path / "run"
    proc = run_bench("run", str(tiny_models["keras"]), "--fast", "--threads", "1", "--variants", "tflite-fp32",
                     "--out", str(out), env={"EDGEBENCH_FAULT": "reference:crash"})
    assert proc.returncode == 0, proc.stderr
    doc = load_results(out)
    assert doc["results"][0]["status"] == "ok" and "cosine" not in doc["results"][0]["accuracy"]
    assert "crashed with SIGSEGV" in doc["model"]["reference"]
    assert any(w.startswith("no accuracy figures") for w in doc["warnings"])
    assert "warning: no accuracy figures" in proc.stdout


@pytest.mark.slow
def test_a_reference_crashing_beside_the_conversions_costs_the_accuracy_figures_only(tiny_models, tmp_path):
    """Both runtimes: the second converter child computes the reference while the first exports the model. Its
    crash leaves no accuracy figures, and the ONNX variants are still built (by a new second child) and measured."""
    out = tmp_path / "run"
    proc = run_bench("run", str(tiny_models["keras"]), "--fast", "--threads", "1", "--variants",
                     "tflite-fp32,onnx-fp32", "--out", str(out), env={"EDGEBENCH_FAULT": "reference:crash"})
    assert proc.returncode == 0, proc.stderr
    doc = load_results(out)
    assert {(r["variant"], r["status"]) for r in doc["results"]} == {("onnx-fp32", "ok"), ("tflite-fp32", "ok")}
    assert "crashed with SIGSEGV" in doc["model"]["reference"]
    err = proc.stderr
    assert "built onnx-fp32: ok" in err
    assert -1 < err.find("reference outputs (keras) on") < err.find("load test and accuracy")  # during the conversions


@pytest.mark.slow
def test_operators_litert_lacks(tmp_path):
    """A select-TF op (FlexErf): LiteRT cannot run it, ONNX Runtime can (tf2onnx maps it to Erf).
    A custom op (Erfinv): nobody can; both variants fail, each with its own reason."""
    flex = tflite_with_op(tmp_path / "flex-erf.tflite", "erf")
    custom = tflite_with_op(tmp_path / "custom-erfinv.tflite", "erfinv")
    out = tmp_path / "flex"
    proc = run_bench("run", str(flex), *PLAIN, "--threads", "1", "--out", str(out))
    _assert_isolated(proc, out, LITERT, "LiteRT lacks operator FlexErf: a TensorFlow 'select' op")

    out = tmp_path / "custom"
    proc = run_bench("run", str(custom), *PLAIN, "--threads", "1", "--out", str(out))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    recs = load_results(out)["results"]
    assert all(r["status"] == "failed" for r in recs)
    assert all("LiteRT lacks custom operator Erfinv:" in r["error"] for r in recs if r["runtime"] == "litert")
    assert all("tf2onnx left operators ONNX lacks" in r["error"] for r in recs if r["runtime"] == "onnxruntime")
    assert proc.stdout.count("FAILED") == len(recs) >= 2


@pytest.mark.slow
def test_a_hanging_converter_is_stopped_at_the_timeout(tiny_models, tmp_path):
    out = tmp_path / "run"
    proc = run_bench("run", str(tiny_models["tflite"]), *PLAIN, "--threads", "1", "--timeout", "15", "--out", str(out),
                     env={"EDGEBENCH_FAULT": "convert:hang@onnx-fp32"})
    doc = _assert_isolated(proc, out, ORT, "conversion failed: building onnx-fp32 did not finish within 15 s")
    assert _leftovers(doc["run_options"]["run_id"]) == []


@pytest.mark.slow
def test_an_operator_onnx_runtime_lacks(tmp_path):
    """A custom-domain ONNX op: the run still reads the model's inputs, and the record names the missing operator."""
    from onnx import TensorProto, helper
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["h"]), helper.make_node("FancyActivation", ["h"], ["y"], domain="com.example")],
        "custom", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    model = tmp_path / "custom-op.onnx"
    model.write_bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                              helper.make_opsetid("com.example", 1)]).SerializeToString())
    out = tmp_path / "run"
    proc = run_bench("run", str(model), *PLAIN, "--threads", "1", "--out", str(out))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    records = load_results(out)["results"]
    ort = [r for r in records if r["runtime"] == "onnxruntime"]
    assert ort and all(r["status"] == "failed" and "ONNX Runtime lacks operator FancyActivation (domain com.example)"
                       in r["error"] for r in ort)
    # the LiteRT side is converted with onnx2tf, which names the operator it cannot take
    (lite,) = [r for r in records if r["runtime"] == "litert"]
    assert lite["status"] == "failed" and "onnx2tf failed" in lite["error"] and "FancyActivation" in lite["error"]


def test_a_child_that_prints_invalid_utf8_still_yields_one_line():
    """A crashing native library can print any bytes; decoding them must not be what fails."""
    from edgebench.benchmarks.isolation.subproc import failure_reason, run_child
    res = run_child(["-c", "import sys; sys.stderr.buffer.write(b'\\xff\\xfe junk\\nValueError: boom \\xff\\n'); "
                     "sys.exit(3)"], 30)
    assert failure_reason(res, "child", 30).startswith("child failed: ValueError: boom")


@pytest.mark.slow
def test_a_grandchild_that_keeps_the_pipes_open_cannot_hold_up_the_parent():
    """A child that hangs after starting a process in its own session (outside the group we kill), which inherits
    its stdout: the timeout still ends the wait, with a failure reason, instead of reading the pipe forever."""
    import time

    from edgebench.benchmarks.isolation.subproc import failure_reason, run_child
    code = ("import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'], "
            "start_new_session=True); time.sleep(60)")
    t0 = time.monotonic()
    res = run_child(["-c", code], 2)
    assert time.monotonic() - t0 < 30
    assert res.timed_out and "did not finish within 2 s" in failure_reason(res, "child", 2)
