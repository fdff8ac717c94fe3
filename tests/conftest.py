"""Shared fixtures: tiny real models built once per session, an isolated cache, and `bench` in a subprocess."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from edgebench.results.record import Record, new_record, validate_record

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# The installed console script, as a user runs it; `python -m edgebench.benchmarks.cli` only when it is not installed.
_SCRIPT = Path(sys.executable).with_name("bench")
BENCH = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "edgebench.benchmarks.cli"]


@pytest.fixture(scope="session", autouse=True)
def isolated_cache(tmp_path_factory):
    """Converted files and the default model go to a per-session cache, never the user's."""
    cache = tmp_path_factory.mktemp("edgebench-cache")
    old = os.environ.get("EDGEBENCH_CACHE")
    os.environ["EDGEBENCH_CACHE"] = str(cache)
    yield cache
    if old is None:
        os.environ.pop("EDGEBENCH_CACHE", None)
    else:
        os.environ["EDGEBENCH_CACHE"] = old


def build_tiny_classifier(seed: int = 0, size: int = 16, filters: int = 8):
    """A few layers, size x size x 3 in, 4 logits out, with random but fixed weights."""
    import keras

    keras.utils.set_random_seed(seed)
    inp = keras.Input((size, size, 3), name="image")
    x = keras.layers.Conv2D(filters, 3, strides=2, padding="same", activation="relu")(inp)
    x = keras.layers.DepthwiseConv2D(3, padding="same", activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    out = keras.layers.Dense(4)(x)
    return keras.Model(inp, out, name="tiny")


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> dict[str, Path]:
    """The same tiny classifier as .keras, SavedModel, .tflite and .onnx, plus an .npz of inputs with labels."""
    import tensorflow as tf

    root = tmp_path_factory.mktemp("tiny")
    model = build_tiny_classifier()
    keras_path = root / "tiny.keras"
    model.save(keras_path)
    sm = root / "tiny_savedmodel"
    model.export(str(sm), verbose=False)
    tflite = root / "tiny.tflite"
    tflite.write_bytes(tf.lite.TFLiteConverter.from_saved_model(str(sm)).convert())
    onnx_path = root / "tiny.onnx"
    subprocess.run([sys.executable, "-m", "tf2onnx.convert", "--saved-model", str(sm), "--output", str(onnx_path),
                    "--opset", "17"], check=True, capture_output=True)
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, size=(24, 16, 16, 3)).astype(np.float32)
    y = np.asarray(model(x, training=False)).argmax(1)
    data = root / "tiny-data.npz"
    np.savez(data, image=x, y=y)
    return {"keras": keras_path, "savedmodel": sm, "tflite": tflite, "onnx": onnx_path, "data": data}


def make_record(runtime: str = "litert", variant: str = "tflite-fp32", median: float | None = 1.0, threads: int = 1,
                *, batch: int = 1, label: str | None = None, ci: float | None = None, ci_pct: float | None = None,
                budget: bool | None = True, acc: dict | None = None, size: int | None = None,
                method: str | None = None, medians: list[float] | None = None, **overrides) -> Record:
    """A valid record (built by `new_record`, then validated): measured unless `median` is None (then failed).

    p99 is 1.5 x the median. `ci`: half-width (ms) of the median's 95% CI, with a p99 CI beside it; `ci_pct`: the
    same in % of the median; neither: a record without CIs (written before 1.1). `budget`: the accuracy budget's
    verdict, None when accuracy was not checked. `method`: how it was measured, with `medians` its worker
    processes' medians (default: the median alone). `overrides` replace any field.
    """
    rec = new_record(model="tiny", runtime=runtime, variant=variant, threads=threads, batch=batch,
                     settings_label=label, runtime_settings={}, mode="default", measured_on={"host_is_target": True},
                     error=None, model_bytes=size, artifact=None, pass_notes=[],
                     accuracy=acc if acc is not None else {"top1_agreement": 1.0, "cosine": 1.0})
    if median is not None:
        half = ci if ci is not None else None if ci_pct is None else median * ci_pct / 100
        latency: dict = {"median": median, "p99": median * 1.5}
        if half is not None:
            latency.update(median_ci=[median - half, median + half], p99_ci=[median * 1.4, median * 1.7])
        rec.update(status="ok", latency_ms=latency)
    if budget is not None:
        rec["accuracy_budget"] = {"ok": budget, "violations": [] if budget else ["cosine"]}
    if method is not None:
        rec["measurement"] = {"method": method, "process_medians_ms": medians or [median]}
    rec.update(overrides)
    return validate_record(rec, "make_record")


def run_bench(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
              timeout: float = 600) -> subprocess.CompletedProcess:
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run([*BENCH, *args], capture_output=True, text=True, cwd=cwd, env=full_env, timeout=timeout)


def load_results(run_dir: Path) -> dict:
    return json.loads((Path(run_dir) / "results.json").read_text())


@pytest.fixture(scope="session")
def keras_run(tiny_models, tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """One fast run of the tiny Keras model at 1 thread, shared by the tests that read its output."""
    out = tmp_path_factory.mktemp("run") / "keras"
    proc = run_bench("run", str(tiny_models["keras"]), "--profile", "x86_64", "--fast", "--threads", "1",
                     "--variants", "tflite-fp32,onnx-fp32", "--data", str(tiny_models["data"]), "--out", str(out))
    return out, proc


def build_quantizable_classifier(seed: int = 0):
    """Like the tiny classifier, but its second Conv has 4,608 weights: over TFLite's 1,024-element threshold for
    dynamic-range quantization, while the first Conv (432) and the Dense (128) stay under it."""
    import keras

    keras.utils.set_random_seed(seed)
    inp = keras.Input((16, 16, 3), name="image")
    x = keras.layers.Conv2D(16, 3, strides=2, padding="same", activation="relu")(inp)
    x = keras.layers.Conv2D(32, 3, padding="same", activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    out = keras.layers.Dense(4)(x)
    return keras.Model(inp, out, name="tinyq")


def build_determinant_model():
    """A model whose MatrixDeterminant has no TFLite builtin kernel: TFLite passes fail, tf2onnx converts it."""
    import keras

    keras.utils.set_random_seed(0)
    inp = keras.Input((3, 3), name="m")
    h = keras.layers.Dense(3)(inp)
    det = keras.ops.expand_dims(keras.ops.det(h), -1)
    out = keras.layers.Dense(2)(keras.ops.concatenate([det, keras.layers.Flatten()(h)], -1))
    return keras.Model(inp, out, name="det")


@pytest.fixture(scope="session")
def quant_models(tmp_path_factory) -> dict[str, Path]:
    """The quantizable classifier as .keras with labelled inputs (.npz), and the determinant model."""
    root = tmp_path_factory.mktemp("quant")
    model = build_quantizable_classifier()
    model.save(root / "tinyq.keras")
    rng = np.random.default_rng(2)
    x = rng.uniform(-1, 1, size=(48, 16, 16, 3)).astype(np.float32)
    np.savez(root / "tinyq-data.npz", image=x, y=np.asarray(model(x, training=False)).argmax(1))
    det = build_determinant_model()
    det.save(root / "det.keras")
    xd = rng.standard_normal((16, 3, 3)).astype(np.float32)
    np.savez(root / "det-data.npz", m=xd)
    return {"keras": root / "tinyq.keras", "data": root / "tinyq-data.npz", "det": root / "det.keras",
            "det_data": root / "det-data.npz"}


@pytest.fixture(scope="session")
def arm_run(tiny_models, tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """A second, different run for merged reports: the tiny ONNX model on the arm64 profile (HOST timings on x86,
    random data) at batch 1 and 2."""
    out = tmp_path_factory.mktemp("run") / "onnx-arm64"
    proc = run_bench("run", str(tiny_models["onnx"]), "--profile", "arm64", "--fast", "--threads", "1",
                     "--batch", "1,2", "--variants", "onnx-fp32", "--out", str(out))
    return out, proc


@pytest.fixture(scope="session")
def field_models(tmp_path_factory) -> dict[str, Path]:
    """Stand-ins for third-party models (tests/real_models.py): an ONNX CNN with dims [batch, 3, height, width] and
    real-shaped inputs for it, an ONNX graph whose Reshape accepts only one width, one onnx2tf cannot convert, a
    recurrent model with a rank-0 input and a state whose batch axis is 1 (named, and anonymous: declared in the
    .npz), and a token-id classifier with an attention mask."""
    from real_models import (
        onnx_bitwise_not,
        onnx_dynamic_cnn,
        onnx_fixed_reshape,
        onnx_recurrent_vad,
        onnx_token_classifier,
    )

    root = tmp_path_factory.mktemp("field")
    rng = np.random.default_rng(4)
    np.savez(root / "cnn-data.npz", x=rng.uniform(-1, 1, (6, 3, 48, 192)).astype(np.float32))
    vad = {"x": rng.uniform(-1, 1, (8, 64)).astype(np.float32), "sr": np.array(16000, np.int64),
           "state": rng.uniform(-1, 1, (2, 8, 16)).astype(np.float32)}  # rank 0; batch axis 1
    np.savez(root / "vad-data.npz", **vad)
    np.savez(root / "vad-axes.npz", **vad, axes=np.array(["state=1"]))
    return {"cnn": onnx_dynamic_cnn(root / "cnn.onnx"), "cnn_data": root / "cnn-data.npz",
            "reshape": onnx_fixed_reshape(root / "reshape.onnx"), "bitwise": onnx_bitwise_not(root / "bitwise.onnx"),
            "vad": onnx_recurrent_vad(root / "vad.onnx"), "vad_anon": onnx_recurrent_vad(root / "anon.onnx", False),
            "vad_data": root / "vad-data.npz", "vad_axes": root / "vad-axes.npz",
            "tokens": onnx_token_classifier(root / "tokens.onnx")}


@pytest.fixture(scope="session")
def two_heads(tmp_path_factory) -> dict[str, Path]:
    """The two-input, two-output Keras model of tests/real_models.py, as a legacy .h5 file (Keras 3's legacy loader:
    one run tests both), and 16 samples of its two inputs."""
    from real_models import keras_two_heads

    root = tmp_path_factory.mktemp("two-heads")
    rng = np.random.default_rng(6)
    np.savez(root / "two-data.npz", image=rng.uniform(-1, 1, (16, 8, 8, 3)).astype(np.float32),
             feats=rng.uniform(-1, 1, (16, 4)).astype(np.float32))
    return {"h5": keras_two_heads(root / "two.h5"), "data": root / "two-data.npz"}
