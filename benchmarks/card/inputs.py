"""What `bench card` was handed: an .onnx file, a run directory, a `bench optimize` directory, or a source model
(converted to ONNX once, cached). Each becomes a list of ONNX variants plus the source model for pre-processing."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgebench.results.errors import UserError


@dataclass
class OnnxVariant:
    name: str  # the variant name (onnx-fp32, ...) or the file's stem
    path: Path
    latency: list[dict[str, Any]] = field(default_factory=list)  # measured ORT latencies of this variant, if any
    accuracy: dict[str, Any] | None = None  # its agreement with the reference, when measured


@dataclass
class CardInput:
    variants: list[OnnxVariant]
    source: Path | None  # the model the variants came from (TFLite metadata, Keras pre-processing layers)
    source_format: str | None
    out: Path  # where card.md / card.json go by default
    skipped: list[str] = field(default_factory=list)


def _from_run(run: Path) -> CardInput:
    doc = json.loads((run / "results.json").read_text(encoding="utf-8"))
    variants: dict[str, OnnxVariant] = {}
    skipped = []
    for rec in doc.get("results", []):
        art = rec.get("artifact") if isinstance(rec, dict) else None
        if rec.get("runtime") != "onnxruntime" or not isinstance(art, dict) or not art.get("path"):
            continue
        path = Path(art["path"])
        if not path.is_file():
            skipped.append(f"{rec['variant']}: its file {path} is gone (cleaned cache?): bench card cannot read it")
            continue
        if path.suffix != ".onnx":
            skipped.append(f"{rec['variant']}: {path.suffix} is not an .onnx file (ML.NET loads .onnx)")
            continue
        v = variants.setdefault(rec["variant"], OnnxVariant(rec["variant"], path))
        if rec.get("status") == "ok" and isinstance(rec.get("latency_ms"), dict):
            v.latency.append({"threads": rec.get("threads"), "batch": rec.get("batch"),
                              "median_ms": rec["latency_ms"].get("median"), "timing_scope": rec.get("timing_scope")})
            v.accuracy = v.accuracy or rec.get("accuracy")
    model = doc.get("model", {})
    source = Path(model["path"]) if model.get("path") else None
    return CardInput(list(variants.values()), source, model.get("format"), run, sorted(set(skipped)))


def _from_manifest(folder: Path) -> CardInput:
    doc = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    variants = [OnnxVariant(e["variant"], folder / e["file"]) for e in doc.get("variants", [])
                if e.get("status") == "ok" and str(e.get("file", "")).endswith(".onnx")]
    src = doc.get("model") or {}
    source = Path(src["path"]) if isinstance(src, dict) and src.get("path") else None
    return CardInput(variants, source, src.get("format") if isinstance(src, dict) else None, folder)


def default_statement(found: CardInput) -> str | None:
    """edgebench's own default model was trained on pixels scaled to [-1, 1]: its card can say so."""
    from edgebench.benchmarks.variants.default_model import NAME
    return "mean=127.5 std=127.5" if found.source is not None and found.source.name.startswith(NAME) else None


def resolve(target: str | None, out: str | None) -> CardInput:
    """Raises UserError for a path that is none of the above, or that holds no ONNX variant."""
    if target is None:
        found = default_model_input()
    else:
        p = Path(target)
        if not p.exists():
            raise UserError(f"{target} does not exist")
        if p.is_dir() and (p / "results.json").is_file():
            found = _from_run(p)
        elif p.is_dir() and (p / "manifest.json").is_file():
            found = _from_manifest(p)
        elif p.suffix.lower() == ".onnx":
            found = CardInput([OnnxVariant(p.stem, p)], None, "onnx", Path.cwd() / f"{p.stem}-card")
        else:
            found = source_model_input(p)
    if not found.variants:
        raise UserError(f"{target or 'the default model'} has no ONNX variant to make a card for "
                        "(a run or optimize directory without onnx-* variants?)")
    if out:
        found.out = Path(out)
    return found


# A source model (Keras, SavedModel, .tflite) or the embedded default model becomes its onnx-fp32 variant through
# the same cached conversions `bench run` uses, so a second card converts nothing.
def source_model_input(path: Path, name: str | None = None) -> CardInput:
    from edgebench.benchmarks.variants.sources import detect_source
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
    from edgebench.benchmarks.variants.default_model import NAME, ensure_default_model

    return source_model_input(ensure_default_model(), NAME)
