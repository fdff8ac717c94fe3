"""ONNX Runtime quantization passes: quant_pre_process, dynamic and static (QDQ or QOperator) quantization.

The settings come from the hardware profile (which format and types are fast is CPU-specific); the work is
onnxruntime.quantization's. Each output's notes say how many compute ops were really quantized.
"""
from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgebench.optimizers.artifacts import Artifact, cached
from edgebench.optimizers.calibration import CalibrationSet
from edgebench.optimizers.calibration_ranges import calibrate_once
from edgebench.optimizers.convert import ConversionError, tool_versions
from edgebench.optimizers.quant_stats import onnx_quant_stats
from edgebench.results.errors import one_line

if TYPE_CHECKING:
    from onnxruntime.quantization import CalibrationDataReader, QuantType

FORMATS = ("QDQ", "QOperator")
TYPES = ("int8", "uint8")
CALIBRATIONS = ("minmax", "entropy", "percentile")
PER_CHANNEL_MIN_OPSET = 13
_UPGRADED = "opset13.onnx"  # the opset-upgraded input of a per-channel quantization, removed once it is done


@dataclass(frozen=True)
class StaticOptions:
    format: str = "QDQ"
    activation_type: str = "int8"
    weight_type: str = "int8"
    per_channel: bool = True
    reduce_range: bool = False
    calibration: str = "minmax"
    percentile: float = 99.999  # used by calibration = "percentile"
    pre_process: bool = True

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {self.format!r}")
        for key in ("activation_type", "weight_type"):
            if getattr(self, key) not in TYPES:
                raise ValueError(f"{key} must be one of {', '.join(TYPES)}, got {getattr(self, key)!r}")
        if self.calibration not in CALIBRATIONS:
            raise ValueError(f"calibration must be one of {', '.join(CALIBRATIONS)}, got {self.calibration!r}")


@dataclass(frozen=True)
class DynamicOptions:
    weight_type: str = "int8"
    per_channel: bool = False
    reduce_range: bool = False

    def __post_init__(self) -> None:
        if self.weight_type not in TYPES:
            raise ValueError(f"weight_type must be one of {', '.join(TYPES)}, got {self.weight_type!r}")


def _quant_type(name: str) -> QuantType:
    from onnxruntime.quantization import QuantType
    return QuantType.QInt8 if name == "int8" else QuantType.QUInt8


@contextlib.contextmanager
def _quiet_quantizer() -> Iterator[list[str]]:
    """ORT's quantizer logs advice at WARNING on the root logger; collect errors instead of printing them."""
    errors: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.ERROR:
                errors.append(record.getMessage().splitlines()[0])

    root = logging.getLogger()
    handler, old = Collect(), root.level
    saved = root.handlers[:]
    root.handlers = [handler]
    root.setLevel(logging.WARNING)
    try:
        yield errors
    finally:
        root.handlers = saved
        root.setLevel(old)


@contextlib.contextmanager
def _in_dir(path: Path) -> Iterator[None]:
    # quant_pre_process can leave a temporary .onnx in the working directory: keep it in a scratch folder
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def pre_process(model: Artifact) -> Artifact:
    """ORT's recommended preparation: symbolic + ONNX shape inference and basic graph optimization (folds
    BatchNorm-style Mul/Add into Conv so the quantizer sees fewer, larger ops)."""
    def run(out: Path) -> list[str]:
        from onnxruntime.quantization.shape_inference import quant_pre_process

        notes: list[str] = []
        with tempfile.TemporaryDirectory(prefix="edgebench-prep-") as scratch, _in_dir(Path(scratch)):
            try:
                with _quiet_quantizer() as errors:
                    quant_pre_process(model.path, str(out))
            except Exception as exc:  # symbolic shape inference often fails on converted graphs (FIELD-NOTES)
                notes.append(f"symbolic shape inference skipped ({one_line(exc, 120)})")
                try:
                    with _quiet_quantizer() as errors:
                        quant_pre_process(model.path, str(out), skip_symbolic_shape=True)
                except Exception as exc2:
                    raise ConversionError(f"quant_pre_process failed: {one_line(exc2)}") from None
        if errors:  # quant_pre_process logs (and survives) a failed optimization step
            notes.append(f"pre-process: {errors[0][:200]}")
        if not out.is_file():
            raise ConversionError("quant_pre_process wrote no model")
        return notes

    settings = {"tool": tool_versions("onnxruntime", "onnx", "sympy")}
    return cached(model.sha256, "quant-pre-process", settings, "model.onnx", run)


def _opset(path: str) -> int:
    import onnx
    m = onnx.load(path, load_external_data=False)
    return next((o.version for o in m.opset_import if o.domain in ("", "ai.onnx")), 0)


def _upgrade_opset(path: str, folder: Path) -> str:
    """Per-channel QDQ needs opset >= 13; older graphs are converted first (onnx.version_converter)."""
    import onnx
    if _opset(path) >= PER_CHANNEL_MIN_OPSET:
        return path
    upgraded = onnx.version_converter.convert_version(onnx.load(path), PER_CHANNEL_MIN_OPSET)
    target = folder / _UPGRADED
    onnx.save(upgraded, str(target))
    return str(target)


def dynamic_quantize(model: Artifact, options: DynamicOptions) -> Artifact:
    """Weights int8 ahead of time, activations quantized per batch at run time (ConvInteger / MatMulInteger)."""
    def run(out: Path) -> list[str]:
        from onnxruntime.quantization import quantize_dynamic

        try:
            with _quiet_quantizer():
                quantize_dynamic(model.path, str(out), per_channel=options.per_channel,
                                 reduce_range=options.reduce_range, weight_type=_quant_type(options.weight_type))
        except Exception as exc:
            raise ConversionError(f"ORT dynamic quantization failed: {one_line(exc)}") from None
        return onnx_quant_stats(out).notes()

    settings = {**asdict(options), "tool": tool_versions("onnxruntime", "onnx")}
    return cached(model.sha256, "ort-dynamic-quant", settings, "model.onnx", run)


def _reader(calibration: CalibrationSet) -> CalibrationDataReader:
    """onnxruntime.quantization.CalibrationDataReader over a CalibrationSet (made here: importing ORT is deferred)."""
    from onnxruntime.quantization import CalibrationDataReader

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._it = calibration.feeds()

        def get_next(self) -> dict[str, Any] | None:
            return next(self._it, None)

    return Reader()


def static_quantize(model: Artifact, calibration: CalibrationSet, options: StaticOptions,
                    exclude: Sequence[str] = (), pass_name: str = "ort-static-quant") -> Artifact:
    """Weights and activations int8/uint8 with ranges calibrated on `calibration` (keyed by the model's input names).
    `exclude` names nodes kept in float (the mixed-precision search); the ranges are the shared calibration's, so a
    search candidate costs a quantization, not a calibration."""
    def run(out: Path) -> list[str]:
        from onnxruntime.quantization import CalibrationMethod, QuantFormat, quantize_static

        method = {"minmax": CalibrationMethod.MinMax, "entropy": CalibrationMethod.Entropy,
                  "percentile": CalibrationMethod.Percentile}[options.calibration]
        extra = {"CalibPercentile": options.percentile} if options.calibration == "percentile" else {}
        fmt = QuantFormat.QDQ if options.format == "QDQ" else QuantFormat.QOperator
        float_nodes = {"nodes_to_exclude": list(exclude)} if exclude else {}
        try:
            src = _upgrade_opset(model.path, out.parent) if options.per_channel else model.path
            with _quiet_quantizer():
                calibrate_once(model.sha256, options, calibration, lambda cache: quantize_static(
                    src, str(out), _reader(calibration), quant_format=fmt, per_channel=options.per_channel,
                    reduce_range=options.reduce_range, activation_type=_quant_type(options.activation_type),
                    weight_type=_quant_type(options.weight_type), calibrate_method=method, extra_options=extra,
                    **float_nodes, **cache))
        except Exception as exc:
            what = "ORT static quantization" + (" (mixed)" if exclude else "")
            raise ConversionError(f"{what} failed: {one_line(exc)}") from None
        out.with_name(_UPGRADED).unlink(missing_ok=True)
        kept = [f"kept in float: {len(exclude)} node(s) ({', '.join(exclude[:6])}{', ...' if len(exclude) > 6 else ''})"
                ] if exclude else []
        return onnx_quant_stats(out).notes() + kept + calibration.notes()

    settings = {**asdict(options), "calibration_data": calibration.settings(),
                "tool": tool_versions("onnxruntime", "onnx")}
    if exclude:  # absent for full int8, so its cache key is the one earlier releases wrote
        settings["nodes_to_exclude"] = sorted(exclude)
    return cached(model.sha256, pass_name, settings, "model.onnx", run)
