"""A source model (Keras, SavedModel, .tflite) or the embedded default model made into its onnx-fp32 variant for a
card: the same cached conversions `bench run` uses, so a second card converts nothing."""
from __future__ import annotations

from pathlib import Path

from edgebench.benchmarks.card.inputs import CardInput, OnnxVariant


def source_model_input(path: Path, name: str | None = None) -> CardInput:
    from edgebench.benchmarks.build.sources import detect_source
    from edgebench.optimizers import convert

    src = detect_source(path)
    if src.format == "keras":
        sm = convert.keras_to_savedmodel(src.path)
        art = convert.savedmodel_to_onnx(sm.path, sm.sha256)
    elif src.format == "savedmodel":
        art = convert.savedmodel_to_onnx(src.path, src.sha256)
    elif src.format == "tflite":
        art = convert.tflite_to_onnx(src.path, src.sha256)
    else:
        art = None
    onnx_path = Path(art.path) if art else src.path
    stem = name or src.path.stem
    return CardInput([OnnxVariant("onnx-fp32", onnx_path)], src.path, src.format, Path.cwd() / f"{stem}-card")


def default_model_input() -> CardInput:
    from edgebench.benchmarks.build.default_model import NAME, ensure_default_model

    return source_model_input(ensure_default_model(), NAME)
