"""Mixed-precision full-integer int8 for LiteRT: which layers lose the most accuracy, and a .tflite that keeps the
chosen ones in float. Runs in the converter child (TensorFlow lives only there).

Sensitivity comes from TFLite's own tool, tf.lite.experimental.QuantizationDebugger: its debug model checks every
quantized op's output against the same op run in float on the dequantized inputs (NumericVerify), i.e. each
layer's *own* quantization error, not the error it inherits. A layer is ranked by the SQNR (dB, averaged over the
last axis: channels in TFLite's NHWC) of that comparison, a layer-direct metric added to the debugger's own
(rmse/scale, which only says whether a tensor is rounded as finely as its scale allows, not whether the scale
fits its values). The selective model is the debugger's get_nondebug_quantized_model() with the chosen layers'
output tensors as QuantizationDebugOptions(denylisted_nodes=...).
"""
from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from edgebench.optimizers.artifacts import Artifact, cached
from edgebench.optimizers.calibration import CalibrationSet
from edgebench.optimizers.convert import ConversionError, _quiet_tf, tool_versions
from edgebench.optimizers.quant_stats import tflite_quant_stats
from edgebench.results.errors import one_line

PASS_NAME = "tflite-full-int8-mixed"
SQNR_CAP_DB = 100.0
SENSITIVITY_SAMPLES = 16  # the debug model runs op by op with every tensor kept: a few samples rank the layers


def _sqnr_db(float_out: np.ndarray, quant_out: np.ndarray, scale: float, zero_point: int) -> float:
    """SQNR of one op's quantized output against its float run, mean over the last axis's live channels."""
    ref = np.asarray(float_out, np.float64)
    got = (np.asarray(quant_out, np.float64) - zero_point) * scale
    if ref.shape != got.shape or ref.ndim == 0:
        return math.nan
    r, g = ref.reshape(-1, ref.shape[-1]), got.reshape(-1, ref.shape[-1])
    signal = np.sqrt((r ** 2).sum(axis=0))
    noise = np.sqrt(((r - g) ** 2).sum(axis=0))
    live = signal > 1e-9 * max(float(signal.max()), 1e-30)
    if not live.any():
        return SQNR_CAP_DB
    floor = signal[live] * 10 ** (-SQNR_CAP_DB / 20)
    return float(np.mean(20 * np.log10(signal[live] / np.maximum(noise[live], floor))))


def _dataset(calibration: CalibrationSet, limit: int | None = None) -> Callable[[], Iterator[list[np.ndarray]]]:
    names = list(calibration.arrays)

    def gen() -> Iterator[list[np.ndarray]]:
        for i, feed in enumerate(calibration.feeds()):
            if limit is not None and i >= limit:
                return
            yield [feed[n] for n in names]  # the debugger feeds inputs by position, in the signature's order
    return gen


def _debugger(saved_model: str, calibration: CalibrationSet, denylist: list[str] | None = None,
              with_metrics: bool = False) -> Any:
    _quiet_tf()
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_saved_model(saved_model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = _dataset(calibration)
    metrics = {"sqnr_db": _sqnr_db} if with_metrics else None
    options = tf.lite.experimental.QuantizationDebugOptions(layer_direct_compare_metrics=metrics,
                                                            denylisted_nodes=list(denylist or []) or None)
    return tf.lite.experimental.QuantizationDebugger(converter=converter, debug_options=options,
                                                     debug_dataset=_dataset(calibration, SENSITIVITY_SAMPLES))


def layer_sensitivity(saved_model: str, calibration: CalibrationSet) -> list[dict[str, Any]]:
    """Every quantized layer (named by its output tensor: what denylisted_nodes takes), most sensitive first."""
    try:
        debugger = _debugger(saved_model, calibration, with_metrics=True)
        debugger.run()
        buf = io.StringIO()
        debugger.layer_statistics_dump(buf)
    except Exception as exc:
        raise ConversionError(f"TFLite QuantizationDebugger failed: {one_line(exc)}") from None
    layers = []
    for row in csv.DictReader(io.StringIO(buf.getvalue())):
        sqnr = float(row.get("sqnr_db") or "nan")
        scale = float(row.get("scale") or 0) or 1.0
        rmse = math.sqrt(max(float(row.get("mean_squared_error") or 0), 0.0))
        layers.append({"node": row["tensor_name"], "op_type": row["op_name"],
                       "own_sqnr_db": round(sqnr if not math.isnan(sqnr) else SQNR_CAP_DB, 2),
                       "rmse_over_scale": round(rmse / scale, 3)})
    return sorted(layers, key=lambda x: (x["own_sqnr_db"], -x["rmse_over_scale"]))


def int8_denylisting(saved_model: str, parent_sha: str, calibration: CalibrationSet,
                     denylist: list[str]) -> Artifact:
    """Full-integer int8 (float32 I/O) with the named layers' output tensors kept in float, cached."""
    def make(out: Path) -> list[str]:
        try:
            blob = _debugger(saved_model, calibration, denylist).get_nondebug_quantized_model()
        except Exception as exc:
            raise ConversionError(f"TFLite selective int8 failed: {one_line(exc)}") from None
        out.write_bytes(blob)
        kept = f"kept in float: {len(denylist)} layer(s)" + (
            f" ({', '.join(denylist[:4])}{', ...' if len(denylist) > 4 else ''})" if denylist else "")
        return tflite_quant_stats(out, "int8").notes() + [kept] + calibration.notes()

    settings = {"denylisted_nodes": sorted(denylist), "calibration": calibration.settings(),
                "tool": tool_versions("tensorflow", "tensorflow-cpu")}
    return cached(parent_sha, PASS_NAME, settings, "model.tflite", make)
