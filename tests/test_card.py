"""`bench card`: the compatibility matrix from the shipped registries, the fix it offers, load tests in a real older
onnxruntime, the TFLite metadata recipe, and bad input. Tiny ONNX models built with onnx.helper (card_models)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from card_models import (
    classifier_onnx,
    conv_onnx,
    fp16_onnx,
    paddle_style_onnx,
    reshape_hw_onnx,
    tflite_with_metadata,
    yolo_head_onnx,
)
from conftest import run_bench

# What dotnet/machinelearning's Versions.props pins and what each release loads (FIELD-NOTES): the shipped data,
# probed from each release's own wheel, must agree.
PINNED_LIMITS = {"1.10.0": (8, 15), "1.14.0": (8, 18), "1.16.3": (9, 19), "1.18.1": (10, 21), "1.23.2": (11, 23)}


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("card-models")
    return {"op21": classifier_onnx(root / "op21.onnx", 21, 10), "op13": classifier_onnx(root / "op13.onnx", 13, 7),
            "conv": conv_onnx(root / "conv.onnx"), "fp16": fp16_onnx(root / "fp16.onnx"),
            "paddle": paddle_style_onnx(root / "paddle.onnx"), "reshape": reshape_hw_onnx(root / "reshape.onnx"),
            "yolo": yolo_head_onnx(root / "yolo.onnx")}


def _card(out: Path) -> dict:
    return json.loads((out / "card.json").read_text())


def _row(card: dict, key: str) -> dict:
    return next(r for r in card["rows"] if r["key"] == key)


def test_shipped_registries_hold_each_pinned_release_limits():
    from edgebench.benchmarks.card.registry import load_registry, shipped_versions

    assert set(PINNED_LIMITS) <= set(shipped_versions())
    for version, (ir, opset) in PINNED_LIMITS.items():
        reg = load_registry(version)
        assert (reg["max_ir_version"], reg["max_opset"]["ai.onnx"]) == (ir, opset), version
        n = sum(len(rows) for ops in reg["kernels"].values() for rows in ops.values())
        assert n > 500 and "Conv" in reg["kernels"]["ai.onnx"], version
        borrowed = version in ("1.10.0", "1.14.0")  # releases that do not list their kernels: says so
        assert ("kernels_from" in reg) == borrowed, version
        if borrowed:  # ... and each borrowed (op, version, type) was probed in the real old release
            checked = reg["kernels_verified"]
            assert checked["ok"] > 1000 and checked["ok"] + checked["missing"] + checked["unknown"] == checked["probes"]


def test_opset_21_fails_mlnet_3_with_a_fix_that_passes(models, tmp_path):
    out = tmp_path / "card"
    proc = run_bench("card", str(models["op21"]), "--fix", "mlnet-3.0", "--out", str(out), "--quiet", "--static")
    assert proc.returncode == 0, proc.stderr
    card = _card(out)["cards"][0]
    assert card["answer"].startswith("loads in ML.NET 4.0+; ML.NET 2.0:")
    row = _row(card, "mlnet-3.0")
    assert row["ok"] is False and row["checked"] == "static"
    assert {p["kind"] for p in row["problems"]} == {"ir", "opset"}
    assert "ai.onnx opset 21 is newer than this runtime's 18" in " ".join(p["text"] for p in row["problems"])
    assert "--fix mlnet-3.0" in row["fixes"][0] and "--opset 18" in row["fixes"][0]
    assert _row(card, "mlnet-4.0")["ok"] and _row(card, "mlnet-5.0")["ok"]
    fixed = Path(card["fix"]["file"])
    assert card["fix"]["ok"] is True and fixed.is_file()
    # the fixed file, checked again from scratch, passes the ML.NET 3.0 row
    from edgebench.benchmarks.card.matrix import static_row
    from edgebench.benchmarks.card.model_facts import read_model
    from edgebench.benchmarks.card.releases import parse_target
    assert static_row(read_model(fixed), parse_target("mlnet-3.0"))["ok"] is True
    golden = json.loads((out / "golden-op21.json").read_text())
    assert golden["outputs"]["probs"]["shape"] == [1, 4] and len(golden["inputs"]["image:0"]["data"]) == 192
    assert abs(sum(golden["outputs"]["probs"]["data"]) - 1) < 1e-5  # Softmax: a real run, not a placeholder
    md = (out / "card.md").read_text()
    assert "| ML.NET 3.0.x | >= 1.14.0 | IR 8, opset 18 | FAILS | static |" in md
    assert "[ColumnName(\"image:0\")]" in md and "[VectorType(1, 8, 8, 3)]" in md


def test_ort_offline_optimized_variant_fails_older_runtimes(models, tmp_path):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.optimized_model_filepath = str(tmp_path / "conv-ort-optimized.onnx")
    ort.InferenceSession(str(models["conv"]), so, providers=["CPUExecutionProvider"])
    out = tmp_path / "card"
    proc = run_bench("card", so.optimized_model_filepath, "--out", str(out), "--quiet", "--static")
    assert proc.returncode == 0, proc.stderr
    card = _card(out)["cards"][0]
    assert any(d.startswith("com.microsoft") for d in card["opsets"])  # runtime-only ops were written
    old = _row(card, "mlnet-2.0")
    assert old["ok"] is False and old["fixes"]
    assert "onnxruntime-specific ops" in " ".join(old["fixes"])
    # the plain graph loads everywhere
    from edgebench.benchmarks.card.matrix import static_row
    from edgebench.benchmarks.card.model_facts import read_model
    from edgebench.benchmarks.card.releases import MLNET
    assert all(static_row(read_model(models["conv"]), t)["ok"] for t in MLNET)


@pytest.mark.slow
def test_load_test_in_a_real_older_onnxruntime(models, tmp_path):
    out = tmp_path / "card"
    # every row is load-tested by default, in the user's cache of environments (made once per release)
    proc = run_bench("card", str(models["op13"]), "--for", "onnxruntime-1.16", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    row = _row(_card(out)["cards"][0], "onnxruntime-1.16.3")
    if row.get("load_test", {}).get("status") == "unavailable" and "cannot be reached" in row["load_test"]["detail"]:
        pytest.skip(f"offline: {row['load_test']['detail']}")
    assert row["checked"] == "load-tested" and row["ok"] is True, row
    assert row["load_test"]["max_abs_diff"] < 1e-5
    from edgebench.benchmarks.card.ortenv import cached_python
    assert cached_python("1.16.3") is not None


def test_unreachable_index_falls_back_to_static_with_one_line(models, tmp_path):
    out = tmp_path / "card"
    proc = run_bench("card", str(models["op13"]), "--for", "onnxruntime-1.17", "--load-test", "--out", str(out),
                     env={"EDGEBENCH_ORT_ENVS": str(tmp_path / "envs"), "PIP_INDEX_URL": "http://127.0.0.1:9/simple",
                          "PIP_RETRIES": "0", "PIP_TIMEOUT": "3"}, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    row = _row(_card(out)["cards"][0], "onnxruntime-1.17.0")
    assert row["checked"] == "static (offline)" and row["load_test"]["status"] == "unavailable"
    lines = [ln for ln in proc.stdout.splitlines() if "cannot be reached" in ln]
    assert len(lines) == 1 and "static check only for" in lines[0] and "ML.NET 2.0" in lines[0]


@pytest.mark.parametrize("args, message", [
    (["--for", "mlnet-9.0"], "unknown target 'mlnet-9.0'"),
    (["--preprocess", "mean=1"], "expected 'mean=M[,M2,M3] std=S[,S2,S3]'"),
])
def test_bad_target_or_statement_is_one_line(models, tmp_path, args, message):
    proc = run_bench("card", str(models["op13"]), *args, "--out", str(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and message in proc.stderr, proc.stderr


def test_a_folder_without_onnx_variant_is_one_line(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"variants": [
        {"variant": "tflite-fp32", "status": "ok", "file": "tflite-fp32.tflite"}]}))
    proc = run_bench("card", str(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr.startswith("bench: error:") and "no ONNX variant" in proc.stderr
    assert proc.stderr.strip().count("\n") == 0


@pytest.mark.slow
def test_tflite_metadata_gives_the_mlnet_pixel_transform_and_labels(tiny_models, tmp_path):
    model = tflite_with_metadata(tiny_models["tflite"], tmp_path / "with-metadata.tflite")
    out = tmp_path / "card"
    proc = run_bench("card", str(model), "--out", str(out), "--quiet", "--rename", "--static")
    assert proc.returncode == 0, proc.stderr
    card = _card(out)["cards"][0]
    pre = card["preprocess"]
    # tf2onnx keeps TensorFlow's names; --rename writes a copy without ':0' / 'serving_default_'
    assert card["io"]["inputs"][0]["name"].endswith(":0") and card["renamed"]["renames"]
    import onnx
    renamed = onnx.load(card["renamed"]["file"])
    assert [i.name for i in renamed.graph.input] == [card["io"]["inputs"][0]["clean_name"]]
    assert pre["origin"] == "TFLite metadata" and pre["mean"] == [127.5] and pre["std"] == [127.5]
    assert pre["mlnet"]["offsetImage"] == "127.5f" and pre["mlnet"]["scaleImage"] == "1/127.5f"
    assert [f["name"] for f in pre["labels"]] == ["labels.txt"] and pre["packed_files"] == ["labels.txt"]
    md = (out / "card.md").read_text()
    assert "offsetImage: 127.5f, scaleImage: 1/127.5f" in md and "`labels.txt` (TENSOR_AXIS_LABELS)" in md


def test_per_channel_normalization_is_said_to_be_inexpressible():
    from edgebench.benchmarks.card.preprocess import recipe

    io = {"inputs": [{"layout": "NCHW", "ml_shape": [1, 3, 224, 224]}]}
    pre = recipe(None, None, io, "mean=123.7,116.3,103.5 std=58.4,57.1,57.4")
    assert pre["mlnet"]["expressible"] is False and "CustomMapping" in pre["mlnet"]["instead"]
    assert pre["mlnet"]["interleavePixelColors"] is False


def test_keras_preprocessing_layers_mean_raw_pixels(tmp_path):
    """A Rescaling layer inside the graph: the ONNX file applies it, so ML.NET feeds raw 0-255 pixels."""
    import zipfile

    from edgebench.benchmarks.card.preprocess import recipe

    config = {"class_name": "Functional", "config": {"layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": [None, 32, 32, 3]}},
        {"class_name": "Rescaling", "config": {"scale": 0.00392156862, "offset": 0.0}}]}}
    path = tmp_path / "m.keras"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("config.json", json.dumps(config))
    io = {"inputs": [{"layout": "NHWC", "ml_shape": [1, 32, 32, 3]}]}
    pre = recipe(path, "keras", io, None)
    assert pre["origin"].startswith("Keras") and pre["layers"][0]["layer"] == "Rescaling"
    assert pre["mlnet"]["offsetImage"] == "0f" and pre["mlnet"]["scaleImage"] == "1f"
    assert pre["image"] == {"width": 32, "height": 32}


def test_float16_inputs_fail_mlnet_rows_but_not_plain_onnxruntime(models, tmp_path):
    proc = run_bench("card", str(models["fp16"]), "--for", "onnxruntime-1.23", "--out", str(tmp_path), "--quiet",
                     "--static")
    assert proc.returncode == 0, proc.stderr
    card = _card(tmp_path)["cards"][0]
    five = _row(card, "mlnet-5.0")
    assert five["ok"] is False and "Unsupported ONNX scalar type: Float16" in five["problems"][0]["text"]
    assert "float32 variant" in five["fixes"][0]
    assert _row(card, "onnxruntime-1.23.2")["ok"] is True  # the runtime itself has Identity for float16


def test_a_newer_card_version_is_refused_with_one_line(tmp_path):
    from edgebench.results.card_contract import load_card
    from edgebench.results.errors import ResultsError

    (tmp_path / "card.json").write_text(json.dumps({"card_version": "2.0", "cards": []}))
    with pytest.raises(ResultsError, match="newer than this edgebench reads"):
        load_card(tmp_path)
    assert load_card(tmp_path / "elsewhere") is None
