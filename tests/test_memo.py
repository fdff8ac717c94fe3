"""A second run of the same model takes its reference outputs and load tests from the cache, with the same figures."""
from __future__ import annotations

import pytest
from conftest import load_results, run_bench


@pytest.mark.slow
def test_a_second_run_reuses_load_tests_and_gets_the_same_accuracy(keras_run, tiny_models, tmp_path):
    first = load_results(keras_run[0])
    out = tmp_path / "again"
    proc = run_bench("run", str(tiny_models["keras"]), "--profile", "x86_64", "--fast", "--threads", "1",
                     "--variants", "tflite-fp32,onnx-fp32", "--data", str(tiny_models["data"]), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    second = load_results(out)
    assert any(n.startswith("load tests of 2 variant(s) taken from the cache") for n in second["notes"])
    assert second["model"]["reference"] == first["model"]["reference"] == "source model in Keras"

    def accuracy(doc):
        return {(r["variant"], r["settings_label"]): r["accuracy"] for r in doc["results"]}
    assert accuracy(second) == accuracy(first) and all(a.get("cosine") for a in accuracy(first).values())

    # EDGEBENCH_MEMO=0 runs every load test again
    fresh = tmp_path / "fresh"
    proc = run_bench("run", str(tiny_models["keras"]), "--profile", "x86_64", "--fast", "--threads", "1",
                     "--variants", "onnx-fp32", "--data", str(tiny_models["data"]), "--out", str(fresh),
                     env={"EDGEBENCH_MEMO": "0"})
    assert proc.returncode == 0, proc.stderr
    assert not any("taken from the cache" in n for n in load_results(fresh)["notes"])
