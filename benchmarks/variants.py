"""The variants a run can build, each a deployable file for one runtime, made by optimizers/ passes.

A builder gets a BuildContext (the source model and the artifacts made so far) and returns an Artifact, or raises
NotApplicable (skipped with a note) or another error (a failed record with a one-line reason).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from benchmarks.sources import ModelSource
from optimizers.artifacts import Artifact


class NotApplicable(Exception):
    """The variant cannot be made from this kind of source; said plainly, not counted as a failure."""


@dataclass
class BuildContext:
    source: ModelSource
    profile: Any
    data: Any = None  # benchmarks.data.DataSet: calibration samples (kind says embedded / user / random)
    cache: dict[str, Artifact] = field(default_factory=dict)

    def saved_model(self) -> Artifact:
        if "savedmodel" not in self.cache:
            from optimizers.artifacts import sha256_path
            from optimizers.convert import keras_to_savedmodel
            if self.source.format == "keras":
                self.cache["savedmodel"] = keras_to_savedmodel(self.source.path)
            elif self.source.format == "savedmodel":
                self.cache["savedmodel"] = Artifact(str(self.source.path), sha256_path(self.source.path), None,
                                                    "source", {})
            else:
                raise NotApplicable(f"no SavedModel for a {self.source.format} source")
        return self.cache["savedmodel"]


def _source_artifact(ctx: BuildContext) -> Artifact:
    return Artifact(str(ctx.source.path), ctx.source.sha256, None, "source", {"format": ctx.source.format})


def build_tflite_fp32(ctx: BuildContext) -> Artifact:
    if ctx.source.format == "tflite":
        return _source_artifact(ctx)
    if ctx.source.format == "onnx":
        raise NotApplicable("no TFLite variant is made from an ONNX model yet (ONNX -> TFLite is not supported)")
    from optimizers.convert import savedmodel_to_tflite
    sm = ctx.saved_model()
    return savedmodel_to_tflite(sm.path, sm.sha256)


def build_onnx_fp32(ctx: BuildContext) -> Artifact:
    if ctx.source.format == "onnx":
        return _source_artifact(ctx)
    if ctx.source.format == "tflite":
        from optimizers.convert import tflite_to_onnx
        return tflite_to_onnx(ctx.source.path, ctx.source.sha256)
    from optimizers.convert import savedmodel_to_onnx
    sm = ctx.saved_model()
    return savedmodel_to_onnx(sm.path, sm.sha256)


@dataclass(frozen=True)
class VariantSpec:
    name: str
    runtime: str
    build: Callable[[BuildContext], Artifact]
    summary: str


VARIANTS: dict[str, VariantSpec] = {
    "tflite-fp32": VariantSpec("tflite-fp32", "litert", build_tflite_fp32, "TFLiteConverter, float32"),
    "onnx-fp32": VariantSpec("onnx-fp32", "onnxruntime", build_onnx_fp32, "tf2onnx, float32, opset 17"),
}
