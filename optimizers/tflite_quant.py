"""TFLite quantization passes through the converter's own options: dynamic-range int8, float16, full-integer int8.

Each takes the SavedModel the fp32 TFLite file is made from (quantization needs the TF graph, not the .tflite) and
returns a cached Artifact whose notes say how many compute ops really ended up quantized.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgebench.optimizers.artifacts import Artifact
from edgebench.optimizers.calibration import CalibrationSet
from edgebench.optimizers.convert import tflite_convert
from edgebench.optimizers.quant_stats import tflite_quant_stats

if TYPE_CHECKING:
    import numpy as np

IO_TYPES = ("float32", "int8", "uint8")


def _convert(saved_model: str | Path, parent_sha: str, pass_name: str, settings: dict[str, Any],
             configure: Callable[[Any, Any], None], reduced: str, extra_notes: list[str] | None = None) -> Artifact:
    def describe(out: Path) -> list[str]:
        notes = tflite_quant_stats(out, reduced).notes() + list(extra_notes or [])
        if reduced == "float16":
            notes = [n.replace("nothing quantized", "nothing stored in float16").replace("quantized:", "float16 weights:")
                     for n in notes]
        return notes
    return tflite_convert(saved_model, parent_sha, pass_name, settings, configure, describe)


def dynamic_range_int8(saved_model: str | Path, parent_sha: str) -> Artifact:
    """int8 weights, float activations (TFLite quantizes only weight tensors of 1024 elements or more)."""
    def configure(c: Any, tf: Any) -> None:
        c.optimizations = [tf.lite.Optimize.DEFAULT]
    return _convert(saved_model, parent_sha, "tflite-dynamic-range", {}, configure, "int8")


def float16(saved_model: str | Path, parent_sha: str) -> Artifact:
    def configure(c: Any, tf: Any) -> None:
        c.optimizations = [tf.lite.Optimize.DEFAULT]
        c.target_spec.supported_types = [tf.float16]
    return _convert(saved_model, parent_sha, "tflite-float16", {}, configure, "float16")


def full_integer_int8(saved_model: str | Path, parent_sha: str, calibration: CalibrationSet,
                      io_type: str = "float32") -> Artifact:
    """Every op in int8 (the converter fails rather than leave a float op); I/O float32, or int8/uint8 if asked."""
    if io_type not in IO_TYPES:
        raise ValueError(f"io_type must be one of {', '.join(IO_TYPES)}, got {io_type!r}")
    names = list(calibration.arrays)

    def representative() -> Iterator[list[np.ndarray] | dict[str, np.ndarray]]:
        for feed in calibration.feeds():
            # one input: a list is unambiguous; several: the signature's own names
            yield [feed[names[0]]] if len(names) == 1 else feed

    def configure(c: Any, tf: Any) -> None:
        c.optimizations = [tf.lite.Optimize.DEFAULT]
        c.representative_dataset = representative
        c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        if io_type != "float32":
            c.inference_input_type = getattr(tf, io_type)
            c.inference_output_type = getattr(tf, io_type)

    settings = {"io_type": io_type, "calibration": calibration.settings()}
    return _convert(saved_model, parent_sha, "tflite-full-int8", settings, configure, "int8", calibration.notes())
