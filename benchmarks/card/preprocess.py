"""The pre-processing recipe, from what the model itself says, mapped onto ML.NET's image transforms.

Sources, first found wins: TFLite metadata (NormalizationOptions, ImageProperties, label files), Keras pre-processing
layers in the .keras config (they are inside the graph: the ONNX file applies them, so ML.NET feeds raw pixels),
the user's --preprocess statement. ML.NET's ExtractPixels computes (pixel - offsetImage) * scaleImage with ONE
scalar pair for all channels: per-channel mean/std cannot be expressed there.
"""
from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from typing import Any

from edgebench.results.errors import UserError

_KERAS_LAYERS = ("Rescaling", "Normalization", "Resizing", "CenterCrop")


def parse_statement(text: str) -> dict[str, Any]:
    """'mean=127.5 std=127.5' or 'mean=123.7,116.3,103.5 std=58.4,57.1,57.4' (pixel units, 0..255)."""
    found: dict[str, list[float]] = {}
    for key, vals in re.findall(r"(mean|std)\s*=\s*([-0-9.eE/, ]+?)(?=\s+(?:mean|std)\s*=|$)", text.strip()):
        try:
            found[key] = [_num(v) for v in vals.replace(" ", "").split(",") if v]
        except (ValueError, ZeroDivisionError):
            found = {}
            break
    if "mean" not in found or "std" not in found or any(s == 0 for s in found["std"]):
        raise UserError(f"--preprocess {text!r}: expected 'mean=M[,M2,M3] std=S[,S2,S3]' in pixel units (0-255)")
    return {"mean": found["mean"], "std": found["std"]}


def _num(v: str) -> float:
    if "/" in v:
        a, b = v.split("/", 1)
        return float(a) / float(b)
    return float(v)


def _keras_layers(path: Path) -> list[dict[str, Any]]:
    """The pre-processing layers of a .keras file, read from its config.json (nothing is loaded or executed)."""
    try:
        with zipfile.ZipFile(path) as zf:
            config = json.loads(zf.read("config.json"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return []
    found: list[dict[str, Any]] = []

    def walk(o: Any) -> None:
        if isinstance(o, dict):
            if o.get("class_name") in _KERAS_LAYERS and isinstance(o.get("config"), dict):
                cfg = o["config"]
                found.append({"layer": o["class_name"], **{k: cfg[k] for k in ("scale", "offset", "mean", "variance",
                              "height", "width", "interpolation") if k in cfg}})
            for v in o.values():
                walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)

    walk(config)
    return found


def _fmt(x: float) -> str:
    return f"{x:g}f"


def _mlnet(mean: list[float], std: list[float], layout: str | None) -> dict[str, Any]:
    interleave = layout != "NCHW"
    if len(set(mean)) > 1 or len(set(std)) > 1:
        return {"expressible": False, "interleavePixelColors": interleave,
                "instead": "ExtractPixels has one offset and one scale for all channels: extract with offsetImage 0, "
                           "scaleImage 1 and normalize per channel in a CustomMapping, or put the normalization into "
                           "the graph (a Normalization layer before export) so that the model takes raw pixels"}
    m, s = mean[0], std[0]
    scale = f"1/{s:g}f" if s != 1 else "1f"
    return {"expressible": True, "interleavePixelColors": interleave, "offsetImage": _fmt(m), "scaleImage": scale,
            "outputAsFloatArray": True,
            "formula": f"(pixel - {m:g}) * {scale.rstrip('f')}"}


def recipe(source: Path | None, fmt: str | None, io: dict[str, Any], statement: str | None,
           default_statement: str | None = None) -> dict[str, Any]:
    first = io["inputs"][0] if io["inputs"] else {}
    layout = first.get("layout")
    out: dict[str, Any] = {"origin": None, "layout": layout, "labels": []}
    meta = None
    if source is not None and fmt == "tflite" and source.is_file():
        from edgebench.benchmarks.card.tflite_metadata import read_tflite_metadata
        meta = read_tflite_metadata(source)
    if meta and meta["inputs"] and meta["inputs"][0].get("normalization"):
        tin = meta["inputs"][0]
        norm = tin["normalization"]
        out.update(origin="TFLite metadata", mean=norm["mean"], std=norm["std"], image=tin.get("image"))
    elif source is not None and fmt == "keras" and _keras_layers(source):
        layers = _keras_layers(source)
        out.update(origin="Keras pre-processing layers (inside the graph)", layers=layers, mean=[0.0], std=[1.0],
                   note="the ONNX graph applies these layers itself: feed raw pixels (0-255) as float")
    elif statement or default_statement:
        out.update(origin="--preprocess statement" if statement else "edgebench's default model (trained on [-1, 1])",
                   **parse_statement(statement or default_statement or ""))
    if meta:
        out["labels"] = [f for t in meta["outputs"] for f in t["files"]] + meta["files"]
        out["packed_files"] = meta.get("packed_files", [])
    if out["origin"] is None:
        out["note"] = ("the model does not say how its inputs are scaled: state it with --preprocess "
                       "'mean=127.5 std=127.5' (pixel units)")
        return out
    size = (out.get("image") or {}) or {}
    shape = first.get("ml_shape") or []
    if layout == "NHWC" and len(shape) == 4:
        size = {"width": size.get("width") or shape[2], "height": size.get("height") or shape[1], **size}
    elif layout == "NCHW" and len(shape) == 4:
        size = {"width": size.get("width") or shape[3], "height": size.get("height") or shape[2], **size}
    out["image"] = size or None
    out["mlnet"] = _mlnet(out["mean"], out["std"], layout)
    return out
