"""One calibration for the static quantizations of one model: ORT's tensor ranges, computed once and shared.

A profile asks for several static formats of the same model (QOperator and QDQ, u8/s8 activations). Their
calibration is the same work: the same model with every tensor made an output, run over the same samples, read with
the same method. It is most of a static quantization's time (docs/PERFORMANCE.md). ONNX
Runtime can save and reuse the ranges (quantize_static's `calibration_cache_path` in recent versions); the file is named
after everything the ranges depend on, so a format that shares it gets the very ranges it would have computed.
"""
from __future__ import annotations

import hashlib
import inspect
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgebench.optimizers.artifacts import cache_root
from edgebench.optimizers.calibration import CalibrationSet
from edgebench.optimizers.convert import tool_versions

if TYPE_CHECKING:
    from edgebench.optimizers.onnx_quant import StaticOptions


def ranges_key(model_sha256: str, options: StaticOptions, calibration: CalibrationSet) -> str:
    """What a calibration's ranges depend on: the model, whether it is opset-upgraded for per-channel weights, the
    samples, the method and its parameter, and the ORT version. Not the formats or types: they are applied after."""
    parts = {"model": model_sha256, "per_channel": options.per_channel, "data": calibration.fingerprint(),
             "method": options.calibration, "percentile": options.percentile if options.calibration == "percentile"
             else None, "tool": tool_versions("onnxruntime", "onnx")}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:24]


def calibration_dir() -> Path:
    return cache_root() / "calibration"


def _supported() -> bool:
    from onnxruntime.quantization import quantize_static
    return "calibration_cache_path" in inspect.signature(quantize_static).parameters


def _readable(path: Path) -> bool:
    from onnxruntime.quantization.calibrate import load_tensors_data
    try:
        load_tensors_data(path)
    except Exception:
        return False
    return True


def calibrate_once(model_sha256: str, options: StaticOptions, calibration: CalibrationSet,
                   quantize: Callable[[dict[str, Any]], None]) -> None:
    """Call `quantize` with quantize_static's extra keyword: the shared ranges file when it exists, else a private
    file that becomes the shared one once ORT can read it (a half-written or failed calibration is never reused).
    A shared file ORT cannot read is removed and the ranges computed afresh; a quantizer failure keeps it. Older ORT
    versions get no keyword and calibrate each format themselves."""
    if not _supported():
        quantize({})
        return
    folder = calibration_dir()
    folder.mkdir(parents=True, exist_ok=True)
    shared = folder / f"ranges-{ranges_key(model_sha256, options, calibration)}.json"
    if shared.is_file():
        try:
            quantize({"calibration_cache_path": str(shared)})
            return
        except Exception:
            if _readable(shared):
                raise  # the quantizer failed, not the ranges: keep them for the other formats
            shared.unlink(missing_ok=True)
    private = shared.with_name(f"{shared.stem}.{os.getpid()}.tmp")
    try:
        quantize({"calibration_cache_path": str(private)})
    finally:
        # ORT writes the ranges once the calibration is complete, before it quantizes: ranges it can read are
        # whole, even when this format's quantizer then failed (the other formats may still succeed with them)
        if private.is_file() and _readable(private):
            private.replace(shared)
        private.unlink(missing_ok=True)
