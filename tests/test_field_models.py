"""Models as they come from the field: symbolic dimensions fixed by --input-shape or by --data, every output checked."""
from __future__ import annotations

import pytest
from conftest import load_results, run_bench

pytestmark = pytest.mark.slow  # whole runs with real conversions


@pytest.fixture(scope="module")
def onnx2tf():
    """ONNX -> LiteRT needs onnx2tf and tf-keras (README, Dependencies): without them these tests fail saying so."""
    from edgebench.optimizers.onnx_to_tf import ConverterMissing, available
    try:
        available()
    except ConverterMissing as exc:
        pytest.fail(str(exc))


@pytest.mark.parametrize("how", ["shape", "data"])
def test_symbolic_onnx_cnn_runs_on_both_runtimes_with_shapes_or_data(onnx2tf, field_models, tmp_path, how):
    """[batch, 3, height, width] fixed by --input-shape or by --data: ok records on ONNX Runtime and on LiteRT
    (onnx2tf), with accuracy against the source on ONNX Runtime; the TFLite passes apply to the ONNX-born model."""
    out = tmp_path / how
    given = (["--input-shape", "x=1,3,48,192", "--batch", "1,2", "--variants", "onnx-fp32,tflite-fp32"]
             if how == "shape" else ["--data", str(field_models["cnn_data"]), "--variants", "onnx-fp32,tflite-int8"])
    proc = run_bench("run", str(field_models["cnn"]), *given, "--fast", "--threads", "1", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    doc = load_results(out)
    (spec,) = doc["model"]["inputs"]
    assert spec["declared_shape"] == [-1, 3, -1, -1] and spec["shape"] == [-1, 3, 48, 192]
    assert doc["data"]["kind"] == ("random" if how == "shape" else "user")
    assert doc["model"]["reference"] == "source .onnx file on ONNX Runtime"
    records = [r for r in doc["results"] if r["settings_label"] != "arena-off"]
    assert all(r["status"] == "ok" for r in records), [r["error"] for r in records]
    litert = {(r["variant"], r["batch"]): r for r in records if r["runtime"] == "litert"}
    if how == "shape":
        fp32 = litert["tflite-fp32", 1]
        assert fp32["accuracy"]["max_abs_error"] < 1e-4 and fp32["accuracy_budget"]["ok"]
        assert [p["pass"] for p in fp32["artifact"]["lineage"]] == ["source", "onnx2tf", "tflite-convert"]
        assert ("tflite-fp32", 2) in litert  # the batch axis stays symbolic: --batch sweeps still work
    else:  # full int8 from the ONNX-born SavedModel, calibrated on the user's data
        int8 = litert["tflite-int8", 1]
        assert int8["accuracy"]["cosine"] > 0.99 and int8["accuracy_budget"]["ok"]
        assert [p["pass"] for p in int8["artifact"]["lineage"]] == ["source", "onnx2tf", "tflite-full-int8"]


def test_a_model_onnx2tf_cannot_take_fails_its_tflite_variants_with_the_reason(onnx2tf, field_models, tmp_path,
                                                                                monkeypatch):
    from edgebench.optimizers.convert import ConversionError
    from edgebench.optimizers.onnx_to_tf import onnx_to_savedmodel
    monkeypatch.setenv("EDGEBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("EDGEBENCH_ONNX2TF_FALLBACK", "0")  # 1.29.24 has BitwiseNot: this is about 1.28.8's reason

    with pytest.raises(ConversionError, match=r"^onnx2tf failed: .*BitwiseNot"):
        onnx_to_savedmodel(field_models["bitwise"], "bitwise-test", {"x": [1, 4]}, [])


def test_every_output_is_checked_and_a_broken_second_head_trips_the_budget(two_heads, tmp_path):
    """A legacy .h5 with two inputs and two heads: both runtimes, every output compared with Keras' own; a variant
    whose second head is perturbed is over the budget although its first output is perfect."""
    out = tmp_path / "two"
    proc = run_bench("run", str(two_heads["h5"]), "--data", str(two_heads["data"]), "--fast", "--threads", "1",
                     "--variants", "tflite-fp32,onnx-fp32", "--out", str(out),
                     env={"EDGEBENCH_FAULT": "evaluate:perturb@onnx-fp32"})
    assert proc.returncode == 0, proc.stderr
    doc = load_results(out)
    assert doc["model"]["outputs"] == ["box", "cls"] and doc["model"]["reference"] == "source model in Keras"
    by_variant = {r["variant"]: r for r in doc["results"] if r["settings_label"] != "arena-off"}
    good, bad = by_variant["tflite-fp32"], by_variant["onnx-fp32"]
    box, cls = good["accuracy"]["outputs"]
    assert (box["name"], cls["name"]) == ("box", "cls")
    assert "top1_agreement" not in box and cls["top1_agreement"] == 1.0  # regression head: no classes
    assert good["accuracy_budget"]["ok"] and box["max_abs_error"] < 1e-4
    bad_box, bad_cls = bad["accuracy"]["outputs"]
    # output 0 is perfect (2 numbers per sample: no cosine, which would be sign noise)...
    assert bad_box["max_abs_error"] < 1e-4 and "cosine" not in bad_box and bad_box["kind"] == "regression"
    assert not bad["accuracy_budget"]["ok"]  # ...and the second head still fails the variant
    assert all("output 'cls'" in v for v in bad["accuracy_budget"]["violations"])
    assert bad["accuracy"]["worst_output"] == "cls" and bad["accuracy"]["cosine"] == bad_cls["cosine"]
    assert "output 'cls'" in proc.stdout


def test_rank0_input_and_a_state_whose_batch_axis_is_1_run_with_data(onnx2tf, field_models, tmp_path):
    """x [batch, 64], state [2, batch, 16] (batch axis inferred from the shared name), sr rank 0 (every sample
    shares it): both runtimes, batch 1 and 2, every output checked; the same model with anonymous dims runs once the
    .npz declares axes=['state=1']."""
    out = tmp_path / "vad"
    proc = run_bench("run", str(field_models["vad"]), "--data", str(field_models["vad_data"]), "--fast", "--threads",
                     "1", "--batch", "1,2", "--variants", "onnx-fp32,tflite-fp32", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    doc = load_results(out)
    assert doc["data"]["batch_axes"] == [0, 1, None] and doc["data"]["samples"] == 8
    records = [r for r in doc["results"] if r["settings_label"] != "arena-off"]
    assert {(r["runtime"], r["batch"]) for r in records} == {(rt, b) for rt in ("litert", "onnxruntime") for b in (1, 2)}
    assert all(r["status"] == "ok" and r["accuracy_budget"]["ok"] for r in records), [r["error"] for r in records]
    lite = next(r for r in records if r["runtime"] == "litert")
    assert [o["name"] for o in lite["accuracy"]["outputs"]] == ["prob", "stateN"]
    assert all("top1_agreement" not in o for o in lite["accuracy"]["outputs"])  # no class scores here
    anon = run_bench("run", str(field_models["vad_anon"]), "--data", str(field_models["vad_axes"]), "--fast",
                     "--threads", "1", "--variants", "onnx-fp32", "--out", str(tmp_path / "anon"))
    assert anon.returncode == 0, anon.stderr
    assert load_results(tmp_path / "anon")["data"]["batch_axes"] == [0, 1, None]


def test_random_token_ids_stay_below_the_vocabulary_size(field_models, tmp_path):
    """The embedding has 50 rows: --vocab-size 50 runs; 1000 sends ids past the table, which the model rejects."""
    base = ["run", str(field_models["tokens"]), "--input-shape", "input_ids=1,16", "--input-shape",
            "attention_mask=1,16", "--fast", "--threads", "1", "--variants", "onnx-fp32"]
    ok = run_bench(*base, "--vocab-size", "50", "--out", str(tmp_path / "ok"))
    assert ok.returncode == 0, ok.stderr
    assert "token ids below 50" in load_results(tmp_path / "ok")["data"]["description"]
    bad = run_bench(*base, "--vocab-size", "1000", "--out", str(tmp_path / "bad"))
    assert bad.returncode == 2 and "the model rejects the input shapes" in bad.stderr and "Gather" in bad.stderr


def test_sparse_tflite_is_densified_and_gains_litert_variants_through_onnx(onnx2tf, tmp_path):
    """A .tflite as published with sparse weights: tf2onnx gets a dense copy (the ONNX file matches LiteRT exactly),
    and the .tflite source gains fp16 through the tf2onnx + onnx2tf round trip, checked against the original file."""
    from real_models import tflite_sparse

    from edgebench.optimizers.tflite_densify import sparse_tensors

    f = tflite_sparse(tmp_path / "sparse.tflite")
    assert sparse_tensors(f) == 2
    out = tmp_path / "sparse"
    proc = run_bench("run", str(f), "--fast", "--threads", "1", "--variants", "tflite-fp32,onnx-fp32,tflite-fp16",
                     "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    doc = load_results(out)
    assert doc["model"]["reference"] == "source .tflite file on LiteRT"
    by_variant = {r["variant"]: r for r in doc["results"] if r["settings_label"] != "arena-off"}
    assert by_variant["onnx-fp32"]["accuracy"]["max_abs_error"] < 1e-5
    assert any("2 sparse weight tensor(s) made dense" in n for n in by_variant["onnx-fp32"]["pass_notes"])
    fp16 = by_variant["tflite-fp16"]
    assert fp16["status"] == "ok" and fp16["accuracy_budget"]["ok"]
    assert [p["pass"] for p in fp16["artifact"]["lineage"]] == ["source", "tf2onnx-tflite", "onnx2tf", "tflite-float16"]
