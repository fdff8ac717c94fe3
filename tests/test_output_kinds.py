"""Issue 27: accuracy figures that fit each output, the budget per kind, and folders of images as --data."""
from __future__ import annotations

import json

import numpy as np
import pytest
from accuracy_models import image_folder, landmark_data, landmark_model, save_keras, to_tflite
from conftest import load_results, run_bench

from edgebench.benchmarks.measure.accuracy import budget_violations, compare_outputs
from edgebench.hardware_profiles.accuracy_budget import AccuracyBudget, budget_from_table, parse_output_kinds


def test_a_one_element_score_gets_no_cosine_and_exact_rounding_never_breaks_the_budget():
    rng = np.random.default_rng(0)
    lm = rng.uniform(0, 200, (32, 63)).astype(np.float32)
    presence = (1 / (1 + np.exp(-rng.normal(-8, 1, (32, 1))))).astype(np.float32)
    m = compare_outputs([lm, presence], [lm + np.float32(1e-4), presence + np.float32(2.7e-6)],
                        names=["Identity", "Identity_1"])
    score = m["outputs"][1]
    assert score["kind"] == "score" and score["kind_inferred"] and "cosine" not in score
    assert score["score_agreement"] == 1.0 and score["sqnr_db"] > 40
    assert not budget_violations(m, AccuracyBudget())
    flipped = presence.copy()
    flipped[:4] = 0.9
    bad = compare_outputs([lm, presence], [lm, flipped], names=["Identity", "Identity_1"])
    assert bad["worst_output"] == "Identity_1"
    assert budget_violations(bad, AccuracyBudget()) == [
        "output 'Identity_1' (score, inferred): score agreement 0.875 < 0.99 at threshold 0.5"]


def test_stated_kinds_choose_the_figure_landmarks_masks_and_logit_scores():
    rng = np.random.default_rng(1)
    ref = rng.normal(size=(16, 10)).astype(np.float32)
    got = ref + np.float32(0.5)
    budget = AccuracyBudget(outputs=parse_output_kinds(["pts=landmarks", "seg=mask", "logit=score"]))
    m = compare_outputs([ref, ref, ref], [got, got, got], names=["pts", "seg", "logit"], budget=budget)
    pts, seg, logit = m["outputs"]
    assert (pts["metric"], seg["metric"], logit["metric"]) == ("mean_rel_error", "mask_iou", "score_agreement")
    assert not pts["kind_inferred"] and logit["threshold"] == 0.0  # logits: 0.5 after a sigmoid
    assert 0 < seg["mask_iou"] < 1 and pts["mean_rel_error"] == pytest.approx(0.5 / np.ptp(ref), rel=1e-4)
    assert any(v.startswith("output 'pts' (landmarks): mean abs error / range") for v in budget_violations(m, budget))
    with pytest.raises(ValueError, match="unknown kind 'box'"):
        parse_output_kinds(["a=box"])
    with pytest.raises(ValueError, match="unknown key"):
        budget_from_table({"min_cosin": 0.9})


@pytest.fixture(scope="module")
def standins(tmp_path_factory):
    from card_models import tflite_with_metadata

    root = tmp_path_factory.mktemp("standins")
    presence = to_tflite(landmark_model(-8.0, False), root / "presence.tflite")
    return {"presence": presence, "presence_data": landmark_data(root / "presence.npz"),
            "handed": to_tflite(landmark_model(0.0, False, seed=1), root / "handed.tflite"),
            "meta": tflite_with_metadata(presence, root / "meta.tflite"),
            "rescaling": save_keras(landmark_model(-8.0, True), root / "rescaling.keras"),
            "imgs": image_folder(root / "imgs")}


def _by_variant(out) -> dict:
    return {r["variant"]: r for r in load_results(out)["results"] if r["settings_label"] != "arena-off"}


def test_an_exact_presence_score_is_within_budget_on_both_runtimes(standins, tmp_path):
    proc = run_bench("run", str(standins["presence"]), "--data", str(standins["presence_data"]), "--fast",
                     "--threads", "1", "--variants", "tflite-fp32,onnx-fp32", "--out", str(tmp_path / "p"))
    assert proc.returncode == 0, proc.stderr
    for rec in _by_variant(tmp_path / "p").values():
        assert rec["accuracy_budget"]["ok"], rec["accuracy_budget"]
        score = next(o for o in rec["accuracy"]["outputs"] if o["kind"] == "score")
        assert "cosine" not in score and score["score_agreement"] == 1.0


def test_a_score_perturbed_past_its_threshold_breaks_the_budget_naming_the_output(standins, tmp_path):
    proc = run_bench("run", str(standins["handed"]), "--data", str(standins["presence_data"]), "--fast",
                     "--threads", "1", "--variants", "tflite-fp32,onnx-fp32", "--output", "score=score",
                     "--out", str(tmp_path / "h"), env={"EDGEBENCH_FAULT": "evaluate:perturb@onnx-fp32"})
    assert proc.returncode == 0, proc.stderr
    by = _by_variant(tmp_path / "h")
    assert by["tflite-fp32"]["accuracy_budget"]["ok"]
    violations = by["onnx-fp32"]["accuracy_budget"]["violations"]
    assert violations and all("(score): score agreement" in v for v in violations), violations
    assert "score agreement" in proc.stdout


@pytest.mark.parametrize("model, origin", [("meta", "TFLite metadata"), ("rescaling", "Keras pre-processing layers")])
def test_an_image_folder_is_preprocessed_as_the_model_says(standins, tmp_path, model, origin):
    out = tmp_path / model
    proc = run_bench("run", str(standins[model]), "--data", str(standins["imgs"]), "--fast", "--threads", "1",
                     "--variants", "tflite-fp32", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    doc = load_results(out)
    assert doc["data"]["preprocessing"]["origin"].startswith(origin)
    assert doc["data"]["classes"] == ["cat", "dog"] and doc["data"]["calibration_images"] == 6
    line = next(n for n in doc["notes"] if n.startswith("data: "))
    assert "6 images from" in line and f"preprocessed per {origin}" in line, line
    mean = "127.5" if model == "meta" else "0"
    assert f"(pixel - {mean})" in line and "16x16 RGB NHWC" in line
    json.dumps(doc)  # strict JSON: no infinities from identical outputs


def test_an_empty_or_unreadable_image_folder_ends_with_one_line(standins, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = run_bench("run", str(standins["meta"]), "--data", str(empty), "--out", str(tmp_path / "e"))
    assert proc.returncode == 2 and "no images" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "x.png").write_bytes(b"not a png")
    proc = run_bench("run", str(standins["meta"]), "--data", str(broken), "--out", str(tmp_path / "b"))
    assert proc.returncode == 2 and "cannot read image" in proc.stderr, proc.stderr
    proc = run_bench("run", str(standins["presence"]), "--data", str(standins["imgs"]), "--out", str(tmp_path / "n"))
    assert proc.returncode == 2 and "--preprocess" in proc.stderr, proc.stderr
