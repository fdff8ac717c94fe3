"""A converted .tflite checked against its ONNX source on the run's data, before any TFLite pass starts from it.

onnx2tf can write a file that runs and is wrong (a YOLOv8 head off by hundreds, a MiniLM encoder at cosine 0.987):
the conversion is measured, never trusted. Both files run here, in the converter child: ONNX Runtime on the source,
LiteRT (XNNPACK, as the worker runs it) on the converted file, sample by sample.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

# float32 -> float32 conversion is exact up to summation order: a worst-sample cosine below this means the graph
# was changed, not rounded (the encoder onnx2tf breaks by default sits at 0.987..0.989)
MIN_COSINE = 0.9999


@dataclass(frozen=True)
class Agreement:
    """The worst output's figures over the samples checked."""

    max_abs: float
    cosine: float  # worst sample's cosine similarity
    output: str
    samples: int

    @property
    def ok(self) -> bool:
        return self.cosine >= MIN_COSINE

    def text(self) -> str:
        return (f"checked against the ONNX source on {self.samples} sample(s): worst output {self.output!r} max abs "
                f"{self.max_abs:.3g}, cosine {self.cosine:.6f}")

    def better_than(self, other: Agreement) -> bool:
        return (self.cosine, -self.max_abs) > (other.cosine, -other.max_abs)


def _key(name: str) -> str:
    # the converter names inputs as onnx_static.safe_name does (`x:0` -> `x_0`), its signature may add a prefix
    return re.sub(r"\W", "_", name.lower()).removeprefix("serving_default_")


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        return 1.0 if np.array_equal(a, b) else 0.0
    return float(np.dot(a, b) / (na * nb))


def _tflite_runner(tflite_path: str) -> tuple[Any, dict[str, Any], list[str]]:
    from ai_edge_litert.interpreter import Interpreter
    interp = Interpreter(model_path=tflite_path)
    sigs = interp.get_signature_list()
    key = "serving_default" if "serving_default" in sigs else next(iter(sigs))
    runner = interp.get_signature_runner(key)
    return runner, runner.get_input_details(), list(sigs[key]["outputs"])


def compare(onnx_path: str, tflite_path: str, samples: list[dict[str, np.ndarray]]) -> Agreement:
    """Run both files on each sample (feeds keyed by the ONNX input names, batch 1) and return the worst output.
    Outputs are matched by name (onnx2tf keeps the ONNX names in the signature), else by order."""
    import onnxruntime as ort

    sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    onnx_out = [o.name for o in sess.get_outputs()]
    runner, in_details, tfl_out = _tflite_runner(tflite_path)
    by_key = {_key(n): n for n in in_details}
    out_keys = {_key(n): n for n in tfl_out}
    pairs = [(o, out_keys.get(_key(o))) for o in onnx_out]
    if any(t is None for _, t in pairs):
        pairs = list(zip(onnx_out, sorted(tfl_out)))
    worst: dict[str, tuple[float, float]] = {}
    for feed in samples:
        ref = dict(zip(onnx_out, sess.run(None, feed)))
        tfl_feed = {by_key[_key(n)]: v.astype(in_details[by_key[_key(n)]]["dtype"]) for n, v in feed.items()
                    if _key(n) in by_key}
        got = runner(**tfl_feed)
        for o, t in pairs:
            r, g = np.asarray(ref[o]), np.asarray(got[t])
            if r.shape != g.shape and r.size == g.size:
                g = g.reshape(r.shape)
            if r.shape != g.shape:
                worst[o] = (float("inf"), 0.0)
                continue
            m = float(np.max(np.abs(r.astype(np.float64) - g))) if r.size else 0.0
            c = _cosine(r, g)
            prev = worst.get(o, (0.0, 1.0))
            worst[o] = (max(prev[0], m), min(prev[1], c))
    name = min(worst, key=lambda o: (worst[o][1], -worst[o][0]))
    return Agreement(worst[name][0], worst[name][1], name, len(samples))
