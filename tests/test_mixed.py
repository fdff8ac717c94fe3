"""Mixed-precision int8 for ONNX Runtime: qdq_loss_debug ranks the layers of a stand-in whose full int8 breaks the
budget, the search keeps the fewest in float, and `bench run` makes onnx-static-int8-mixed with its search record."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import load_results, run_bench

PROFILE = """name = "x86-mixed"
target_arch = "x86_64"
[benchmark]
threads = [1]
[variants]
build = ["onnx-fp32", "onnx-static-int8"]
[onnxruntime]
enable_cpu_mem_arena = true
[quantization]
mixed_search_s = {seconds}
[[quantization.onnx_static]]
name = "qdq-u8s8"
format = "QDQ"
activation_type = "uint8"
weight_type = "int8"
"""


def _cnn(tmp_path):  # type: ignore[no-untyped-def]
    from edgebench.benchmarks.selfcheck.mixed_standins import cnn
    from edgebench.optimizers.artifacts import Artifact, sha256_path
    from edgebench.optimizers.calibration import CalibrationSet
    from edgebench.optimizers.onnx_quant import pre_process

    path, data, _ = cnn(tmp_path)
    model = pre_process(Artifact(str(path), sha256_path(path), None, "source", {}))
    return model, CalibrationSet(dict(np.load(data)), "user", "stand-in")


def _top1(path: str, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    return np.concatenate([sess.run(None, {"x": x[i:i + 1]})[0] for i in range(len(x))]).argmax(axis=1)


def test_the_first_and_last_layers_rank_first_and_keeping_them_in_float_restores_top1(tmp_path):
    from edgebench.optimizers.onnx_mixed import layer_sensitivity, static_quantize_excluding
    from edgebench.optimizers.onnx_quant import StaticOptions, static_quantize

    model, cal = _cnn(tmp_path)
    options = StaticOptions(format="QDQ", activation_type="uint8")
    full = static_quantize(model, cal, options)
    ranked = layer_sensitivity(model, full, cal)
    assert [layer.nodes for layer in ranked[:2]] == [("relu1", "conv_first"), ("classifier",)]
    x = cal.arrays["x"][:16]
    reference = _top1(model.path, x)
    assert (_top1(full.path, x) == reference).mean() < 0.5  # the stand-in does break full int8
    mixed = static_quantize_excluding(model, cal, options, ["relu1", "conv_first", "classifier"])
    assert (_top1(mixed.path, x) == reference).all()
    assert "kept in float: 3 node(s)" in " ".join(mixed.notes)
    assert any("quantized: 2 of 4" in n for n in mixed.notes)  # conv2 and conv3 stay int8


def test_search_grows_then_bisects_and_stops_at_its_time_budget():
    from edgebench.benchmarks.run.mixed_search import Step, search_sizes

    tried: list[int] = []

    def attempt(k: int) -> Step:
        tried.append(k)
        return Step(k, [f"n{i}" for i in range(k)], within_budget=k >= 5)

    result = search_sizes(20, attempt, budget_s=1e9)
    assert tried == [1, 2, 4, 8, 6, 5] and result.best is not None and result.best.size == 5
    assert not result.out_of_time
    stopped = search_sizes(20, attempt, budget_s=0.0)
    assert stopped.out_of_time and stopped.best is None and stopped.steps == []


@pytest.mark.slow
def test_bench_run_makes_the_mixed_variant_when_full_int8_breaks_the_budget(tmp_path):
    from edgebench.benchmarks.selfcheck.mixed_standins import cnn

    model, data, _ = cnn(tmp_path)
    profile = tmp_path / "x86-mixed.toml"
    profile.write_text(PROFILE.format(seconds=600))
    out = tmp_path / "run"
    proc = run_bench("run", str(model), "--profile", str(profile), "--fast", "--data", str(data), "--out", str(out),
                     "--output", "logits=class-scores")
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = load_results(out)
    rec = {r["variant"]: r for r in doc["results"]}
    assert rec["onnx-static-int8-qdq-u8s8"]["accuracy_budget"]["ok"] is False
    mixed = rec["onnx-static-int8-mixed"]
    assert mixed["status"] == "ok" and mixed["accuracy_budget"]["ok"] is True
    info = mixed["mixed_precision"]
    assert info["layers_in_float"] == ["relu1", "conv_first", "classifier"]
    assert [s["size"] for s in info["steps"]] == [1, 2] and info["steps"][-1]["within_budget"]
    assert all(s["latency_ms"] for s in info["steps"]) and info["seconds"] > 0
    assert doc["mixed_search"]["onnxruntime"]["from"] == "onnx-static-int8-qdq-u8s8"
    assert [a["pass"] for a in mixed["artifact"]["lineage"]][-1] == "ort-static-quant-mixed"
    assert any(n.startswith("onnx-static-int8-mixed: 2 of 6 ranked layer(s) kept in float") for n in doc["notes"])


@pytest.mark.slow
def test_an_exhausted_time_budget_says_so_in_one_note(tmp_path):
    from edgebench.benchmarks.selfcheck.mixed_standins import cnn

    model, data, _ = cnn(tmp_path)
    profile = tmp_path / "x86-mixed.toml"
    profile.write_text(PROFILE.format(seconds=0))
    out = tmp_path / "run"
    proc = run_bench("run", str(model), "--profile", str(profile), "--fast", "--data", str(data), "--out", str(out),
                     "--output", "logits=class-scores")
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = load_results(out)
    assert "onnx-static-int8-mixed" not in {r["variant"] for r in doc["results"]}
    assert any("ran out of its time budget ([quantization] mixed_search_s = 0 s)" in n for n in doc["notes"])


@pytest.mark.slow
def test_litert_search_makes_tflite_int8_mixed_and_the_report_shows_its_steps(tmp_path):
    from edgebench.benchmarks.selfcheck.mixed_standins import cnn

    model, data, _ = cnn(tmp_path)
    out = tmp_path / "run"  # onnx-fp32: an ONNX source's reference outputs come from it
    proc = run_bench("run", str(model), "--profile", "x86_64", "--threads", "1", "--batch", "1", "--fast", "--data", str(data), "--out", str(out),
                     "--variants", "onnx-fp32,tflite-fp32,tflite-int8", "--output", "logits=class-scores",
                     "--mixed")  # a run given --variants builds only those unless --mixed asks for the search
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = load_results(out)
    rec = {r["variant"]: r for r in doc["results"]}
    assert rec["tflite-int8"]["accuracy_budget"]["ok"] is False
    mixed = rec["tflite-int8-mixed"]
    assert mixed["status"] == "ok" and mixed["accuracy_budget"]["ok"] is True
    info = mixed["mixed_precision"]
    assert info["runtime"] == "litert" and info["from"] == "tflite-int8"
    assert "convolution" in info["ranking"][0]["node"]  # the first convolution's own int8 error is the worst
    assert info["layers_in_float"] and all(s["latency_ms"] for s in info["steps"])
    assert [a["pass"] for a in mixed["artifact"]["lineage"]][-1] == "tflite-full-int8-mixed"
    html = (out / "report.html").read_text()
    assert "LiteRT mixed search" in html


def test_probing_by_the_budget_metric_puts_the_detectors_score_prior_first(tmp_path):
    """SQNR ranks the prior's Add last (the -40 prior is the tensor's signal); a probe that keeps it in float with
    the Sigmoid consuming it restores score agreement, so the re-scored order starts with it."""
    import onnxruntime as ort

    from edgebench.benchmarks.measure.accuracy import budget_violations, compare_outputs
    from edgebench.benchmarks.run.mixed_rescore import candidates, failing, rescore
    from edgebench.benchmarks.run.mixed_steps import figures
    from edgebench.benchmarks.selfcheck.mixed_standins import detector
    from edgebench.hardware_profiles.accuracy_budget import AccuracyBudget
    from edgebench.optimizers.artifacts import Artifact, sha256_path
    from edgebench.optimizers.calibration import CalibrationSet
    from edgebench.optimizers.onnx_mixed import layer_links, layer_sensitivity, static_quantize_excluding
    from edgebench.optimizers.onnx_quant import StaticOptions, pre_process, static_quantize

    path, data, kinds = detector(tmp_path)
    model = pre_process(Artifact(str(path), sha256_path(path), None, "source", {}))
    cal = CalibrationSet(dict(np.load(data)), "user", "stand-in")
    options = StaticOptions(format="QDQ", activation_type="uint8")
    full = static_quantize(model, cal, options)
    ranked = layer_sensitivity(model, full, cal)
    order = [layer.node for layer in ranked]
    assert order.index("score_prior") > order.index("box_conv")  # what the search used to follow
    x, budget = cal.arrays["image"][:32], AccuracyBudget(outputs=kinds)

    def run(p: str) -> list[np.ndarray]:
        sess = ort.InferenceSession(p, providers=["CPUExecutionProvider"])
        return [np.concatenate(a) for a in zip(*[sess.run(None, {"image": x[i:i + 1]}) for i in range(len(x))])]
    reference = run(model.path)

    def accuracy(p: str) -> dict:  # type: ignore[type-arg]
        return compare_outputs(reference, run(p), None, ["boxes", "scores"], budget)
    base = accuracy(full.path)
    fail = failing(base, budget)
    assert list(fail) == ["scores score_agreement"]
    successors, upstream = layer_links(model, ranked)
    assert successors["score_prior"] == ["score_sigmoid"] and "box_conv" not in upstream["scores"]
    groups = {layer.node: list(layer.nodes) for layer in ranked}
    new_order, new_groups, probes = rescore(
        order, groups, successors, candidates(order, upstream, ["scores"]), fail, figures(base),
        lambda exclude: figures(accuracy(static_quantize_excluding(model, cal, options, exclude).path)))
    assert new_order[0] == "score_prior" and new_groups["score_prior"] == ["score_prior", "score_sigmoid"]
    assert sorted(new_order) == sorted(order) and len(probes) <= 6
    assert new_order[:2] == ["score_prior", "stem_relu"]  # the prior's Add, then the ranking's first (the stem)
    exclude = [n for layer in new_order[:2] for n in new_groups[layer]]
    assert not budget_violations(accuracy(static_quantize_excluding(model, cal, options, exclude).path), budget)
