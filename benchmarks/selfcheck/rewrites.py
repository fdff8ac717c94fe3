"""Self-benchmark of the onnx-rewrite pass: ONNX Runtime's median on a MobileNet-style PRelu model (as PyTorch
exports face and hand models) before and after the rewrite, and the candidate exact forms of PRelu side by side,
which is how the shipped form (Max(x, slope*x); LeakyRelu when one slope serves all channels) was chosen. Optionally the same for a Keras PReLU model through
tf2onnx (the `transpose` and `keras-prelu` rules). Run on demand:

    python benchmarks/selfcheck/rewrites.py [--size 112] [--threads 1] [--values 400] [--target 1.5] [--one-slope]
                                            [--keras]

All sessions live in one process and are timed in interleaved rounds, one inference per value, so a busy neighbour
slows every form alike. Prints one line per model with its median, and exit 1 when the rewritten model is not at
least --target times faster than the source.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

WIDTHS = (16, 32, 64, 64, 128, 128, 256)


def _forms(model):  # noqa: ANN001, ANN202  (onnx.ModelProto in, {name: ModelProto} out)
    """The source and the exact PRelu forms that were candidates for the `prelu` rule, written with onnx.helper."""
    import onnx
    from onnx import helper, numpy_helper

    def form(kind: str) -> onnx.ModelProto:
        m = onnx.ModelProto()
        m.CopyFrom(model)
        m.graph.initializer.append(numpy_helper.from_array(np.zeros((), np.float32), "zero"))
        nodes = []
        for n in m.graph.node:
            if n.op_type != "PRelu":
                nodes.append(n)
                continue
            (x, s), y = n.input, n.output[0]
            r, d, k = y + "_r", y + "_d", y + "_k"
            alpha = float(numpy_helper.to_array(next(t for t in m.graph.initializer if t.name == s)).flat[0])
            nodes += {"leaky_relu": [helper.make_node("LeakyRelu", [x], [y], alpha=alpha)],
                      "max(x,s*x)": [helper.make_node("Mul", [x, s], [k]), helper.make_node("Max", [x, k], [y])],
                      "relu(x)+s*(x-relu(x))": [helper.make_node("Relu", [x], [r]), helper.make_node("Sub", [x, r], [d]),
                                                helper.make_node("Mul", [d, s], [k]), helper.make_node("Add", [r, k], [y])],
                      "relu(x)+s*min(x,0)": [helper.make_node("Relu", [x], [r]), helper.make_node("Min", [x, "zero"], [d]),
                                             helper.make_node("Mul", [d, s], [k]), helper.make_node("Add", [r, k], [y])],
                      }[kind]
        del m.graph.node[:]
        m.graph.node.extend(nodes)
        return m

    kinds: tuple[str, ...] = ("relu(x)+s*(x-relu(x))", "relu(x)+s*min(x,0)", "max(x,s*x)")
    if all(t.dims == [1] for t in model.graph.initializer if t.name.startswith("slope")):
        kinds += ("leaky_relu",)  # one slope: LeakyRelu is exact in theory, within ~1e-6 in ORT
    return {"source (PRelu)": model, **{f"form {k}": form(k) for k in kinds}}


def _rewritten(path: Path, x: np.ndarray) -> tuple[str, list[str]]:
    """The pass itself, as a run applies it (proved on x): (rewritten file, notes)."""
    from edgebench.optimizers.artifacts import Artifact, sha256_path
    from edgebench.optimizers.calibration import CalibrationSet
    from edgebench.optimizers.rewrites.apply import rewrite
    from edgebench.optimizers.rewrites.rules import model_inputs

    art = rewrite(Artifact(str(path), sha256_path(path), None, "source", {}),
                  CalibrationSet({model_inputs(str(path))[0]: x}, "random", "selfcheck inputs"))
    return art.path, art.notes


def _time(models: dict[str, bytes | str], x: np.ndarray, threads: int, values: int) -> dict[str, float]:
    """Median ms per model, interleaved rounds of one inference each, after 20 warm-ups."""
    import onnxruntime as ort

    sessions = {}
    for name, m in models.items():
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.log_severity_level = 3
        sessions[name] = ort.InferenceSession(m, so, providers=["CPUExecutionProvider"])
    feeds = {name: {s.get_inputs()[0].name: x[:1]} for name, s in sessions.items()}
    times: dict[str, list[float]] = {name: [] for name in sessions}
    for i in range(20 + values):
        for name, s in sessions.items():
            t = time.perf_counter()
            s.run(None, feeds[name])
            if i >= 20:
                times[name].append((time.perf_counter() - t) * 1e3)
    return {name: statistics.median(v) for name, v in times.items()}


def _keras_prelu_onnx(size: int, tmp: Path) -> Path:
    """A Keras MobileNet-style model with PReLU (alpha per pixel and channel, Keras' default), through tf2onnx."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    keras.utils.set_random_seed(0)
    inp = keras.Input((size, size, 3), name="image")
    x = keras.layers.Conv2D(WIDTHS[0], 3, strides=2, padding="same")(inp)
    x = keras.layers.PReLU(alpha_initializer=keras.initializers.RandomUniform(0.05, 0.3))(x)
    for w in WIDTHS[1:5]:
        x = keras.layers.DepthwiseConv2D(3, padding="same")(x)
        x = keras.layers.PReLU(alpha_initializer=keras.initializers.RandomUniform(0.05, 0.3))(x)
        x = keras.layers.Conv2D(w, 1)(x)
        x = keras.layers.PReLU(alpha_initializer=keras.initializers.RandomUniform(0.05, 0.3))(x)
    out = keras.layers.Dense(10)(keras.layers.GlobalAveragePooling2D()(x))
    keras.Model(inp, out).export(str(tmp / "sm"), verbose=False)
    subprocess.run([sys.executable, "-m", "tf2onnx.convert", "--saved-model", str(tmp / "sm"), "--output",
                    str(tmp / "keras.onnx"), "--opset", "17"], check=True, capture_output=True)
    return tmp / "keras.onnx"


def _report(title: str, medians: dict[str, float], source: str, rewritten: str) -> float:
    print(title)
    for name, ms in medians.items():
        print(f"  {name:32s} {ms:7.3f} ms  {medians[source] / ms:5.2f}x source")
    return medians[source] / medians[rewritten]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=112)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--values", type=int, default=400)
    ap.add_argument("--target", type=float, default=1.5)
    ap.add_argument("--one-slope", action="store_true",
                    help="one slope for all channels (nn.PReLU() default): the pass then uses LeakyRelu")
    ap.add_argument("--keras", action="store_true", help="also a Keras PReLU model through tf2onnx (needs TensorFlow)")
    args = ap.parse_args()
    import onnx

    from edgebench.optimizers.rewrites.sample_models import prelu_mobilenet

    print(f"load average at start: {', '.join(f'{v:.2f}' for v in os.getloadavg())} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        os.environ.setdefault("EDGEBENCH_CACHE", str(tmp / "cache"))
        src = prelu_mobilenet(size=args.size, widths=WIDTHS, one_slope=0.2 if args.one_slope else None)
        onnx.save(src, str(tmp / "prelu.onnx"))
        x = np.random.default_rng(0).standard_normal((32, 3, args.size, args.size)).astype(np.float32)
        path, notes = _rewritten(tmp / "prelu.onnx", x)
        models = {k: m.SerializeToString() for k, m in _forms(src).items()}
        models["rewritten by the pass"] = Path(path).read_bytes()
        print(f"PRelu model ({args.size} px, {len(src.graph.node)} nodes), pass notes: {'; '.join(notes)}")
        speedup = _report(f"ONNX Runtime, {args.threads} thread(s), median of {args.values} interleaved values:",
                          _time(models, x, args.threads, args.values), "source (PRelu)",
                          "rewritten by the pass")
        if args.keras:
            kpath = _keras_prelu_onnx(args.size, tmp)
            xk = x.transpose(0, 2, 3, 1).copy()
            kout, knotes = _rewritten(kpath, xk)
            print(f"Keras PReLU model through tf2onnx, pass notes: {'; '.join(knotes)}")
            _report("  same timing method:", _time({"source (tf2onnx)": str(kpath), "rewritten": kout}, xk,
                                                    args.threads, args.values), "source (tf2onnx)", "rewritten")
    verdict = "PASS" if speedup >= args.target else "FAIL"
    print(f"{verdict}: rewritten PRelu model {speedup:.2f}x faster than the source (target {args.target:g}x)")
    return 0 if speedup >= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
