"""The embedded default model ships inside the installed package, and the recipe that made it still runs."""
from __future__ import annotations

import hashlib
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from edgebench.benchmarks.variants.default_model import INPUT_SIZE, TEST_SAMPLES, digits, load_digits_file


def _python(code: str, cwd: Path) -> str:
    # from another folder, so `benchmarks` is the installed package, not the checkout
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, cwd=cwd,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout.strip()


def test_the_installed_package_holds_the_trained_model(tmp_path):
    path = Path(_python("from edgebench.benchmarks.variants.default_model import ensure_default_model; print(ensure_default_model())",
                        tmp_path))
    assert path.is_file() and path.stat().st_size > 5_000_000
    checkout = Path(__file__).resolve().parents[1] / "benchmarks" / "variants" / "models" / path.name
    # an installed copy and the checkout hold the same bytes: the model is data, never rebuilt per machine
    assert hashlib.sha256(path.read_bytes()).digest() == hashlib.sha256(checkout.read_bytes()).digest()


def test_digits_split_is_fixed_and_disjoint():
    x_test, y_test = digits("test")
    assert x_test.shape == (TEST_SAMPLES, INPUT_SIZE, INPUT_SIZE, 3) and x_test.dtype.name == "float32"
    assert -1.0 <= x_test.min() and x_test.max() <= 1.0
    native, labels = digits("test", native=True)
    assert native.shape == (TEST_SAMPLES, 8, 8, 3) and (labels == y_test).all()
    # the upscaled images are the native ones repeated: what training (which upscales in the graph) saw
    scale = INPUT_SIZE // 8
    assert (x_test[:, ::scale, ::scale] == native).all()
    train_first, _ = digits("train", limit=5, native=True)
    train_all, _ = digits("train", native=True)
    assert (train_first == train_all[:5]).all() and len(train_all) + TEST_SAMPLES == 1797
    rows = {a.tobytes() for a in train_all}
    assert sum(a.tobytes() in rows for a in native) < TEST_SAMPLES // 10  # held out (a few digits are duplicates)


def test_digits_are_scikit_learns_own():
    from sklearn.datasets import load_digits

    images, target = load_digits_file()
    d = load_digits()
    assert (images == d.images).all() and (target == d.target).all()


@pytest.mark.slow
def test_training_recipe_runs_and_saves_a_loadable_model(tmp_path):
    out = tmp_path / "m.keras"
    shape = _python(f"""
        from pathlib import Path
        from edgebench.benchmarks.variants.default_model import train
        train(Path({str(out)!r}), epochs=1, size=32, alpha=0.35)
        import keras
        m = keras.models.load_model({str(out)!r}, safe_mode=True)
        print(m.input_shape, m.output_shape)
    """, tmp_path)
    assert shape.splitlines()[-1] == "(None, 32, 32, 3) (None, 10)"
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".keras"] == ["m.keras"]  # no temporary left


@pytest.mark.slow
def test_bench_run_with_no_model_measures_the_packaged_model_on_its_embedded_digits(tmp_path):
    """The headline command on the model every user gets: both runtimes, real labels, a real accuracy."""
    from conftest import load_results, run_bench

    from edgebench.benchmarks.variants.default_model import model_path

    out = tmp_path / "run"
    proc = run_bench("run", "--fast", "--threads", "1", "--variants", "tflite-fp32,onnx-fp32", "--profile", "arm64",
                     "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = load_results(out)
    assert doc["model"]["kind"] == "default" and doc["model"]["inputs"][0]["shape"] == [-1, INPUT_SIZE, INPUT_SIZE, 3]
    assert doc["model"]["sha256"] == hashlib.sha256(model_path().read_bytes()).hexdigest()
    assert doc["data"] == {"kind": "embedded", "samples": TEST_SAMPLES, "labelled": True,
                           "description": doc["data"]["description"]}
    assert not any("RANDOM" in str(w) for w in doc["warnings"])
    assert sorted(r["runtime"] for r in doc["results"]) == ["litert", "onnxruntime"]
    for r in doc["results"]:
        assert r["status"] == "ok", r
        # a trained model (an untrained one scores about 0.1 on ten classes), converted faithfully
        assert r["accuracy"]["top1_accuracy"] > 0.9 and r["accuracy"]["top1_agreement"] > 0.99
