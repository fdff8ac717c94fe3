"""`bench run --data DIR`: a folder of images (jpg, png) as the run's inputs, preprocessed the way the model says.

The recipe comes from, first found: the user's --preprocess statement, the .tflite's metadata (NormalizationOptions,
image size: the same reader as the deployment card), a .keras file's pre-processing layers (Rescaling, Normalization:
inside the graph, so the model takes raw 0-255 pixels). Labels come from sub-folder names (the ImageFolder
convention) and give top-1 accuracy. Images are split, class by class, into calibration and accuracy samples, so
that int8 variants are never judged on the images they were calibrated on.
"""
from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

import numpy as np

from edgebench.benchmarks.variants.data import DataSet
from edgebench.benchmarks.variants.sources import ModelSource
from edgebench.hardware_profiles.accuracy_budget import KINDS, parse_output_kinds
from edgebench.results.errors import UserError, one_line

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
_PREPROCESS_KEYS = ("mean", "std", "size", "layout", "channels")
PREPROCESS_HELP = "mean=M[,M2,M3],std=S[,S2,S3],size=WxH,layout=NHWC|NCHW,channels=RGB|BGR (pixel units, 0-255)"


def add_accuracy_args(parser: argparse.ArgumentParser) -> None:
    """`bench run`'s options about what the outputs are and how image inputs are prepared."""
    def kind(text: str) -> tuple[str, str]:
        try:
            return next(iter(parse_output_kinds([text]).items()))
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    def statement(text: str) -> str:
        try:
            parse_preprocess(text)
        except UserError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return text

    parser.add_argument("--output", dest="output_kind", type=kind, action="append", metavar="NAME=KIND",
                        help=f"what an output is, so its accuracy is judged by the figure that fits it (repeat per "
                        f"output; kinds: {', '.join(KINDS)}); default: inferred from shape and name")
    parser.add_argument("--preprocess", type=statement, metavar="STATEMENT",
                        help=f"how --data DIR images become inputs, when the model does not say: {PREPROCESS_HELP}")


def parse_preprocess(text: str) -> dict[str, Any]:
    """The --preprocess statement; UserError (one line) when malformed. Keys separated by commas or spaces."""
    found: dict[str, Any] = {}
    pattern = r"(\w+)\s*=\s*(.+?)\s*(?=[,\s]+\w+\s*=|$)"
    for key, value in re.findall(pattern, text.strip()):
        if key not in _PREPROCESS_KEYS:
            raise UserError(f"--preprocess {text!r}: unknown key {key!r} (expected {PREPROCESS_HELP})")
        found[key] = value.strip(", ")
    try:
        out: dict[str, Any] = {k: [float(v) for v in found[k].replace(" ", "").split(",") if v]
                               for k in ("mean", "std") if k in found}
        if "size" in found:
            w, h = found["size"].lower().split("x")
            out["size"] = (int(w), int(h))
    except ValueError:
        raise UserError(f"--preprocess {text!r}: expected {PREPROCESS_HELP}") from None
    layout, channels = found.get("layout", "").upper(), found.get("channels", "RGB").upper()
    if (layout and layout not in ("NHWC", "NCHW")) or channels not in ("RGB", "BGR") or \
            any(s == 0 for s in out.get("std", [])) or not found:
        raise UserError(f"--preprocess {text!r}: expected {PREPROCESS_HELP}")
    return dict(out, layout=layout or None, channels=channels)


def _recipe(source: ModelSource, statement: str | None) -> dict[str, Any]:
    """mean, std (per channel or one), optional size, layout, channels, and `origin`: where the recipe came from."""
    if statement:
        return dict(parse_preprocess(statement), origin="--preprocess")
    if source.format == "tflite":
        from edgebench.benchmarks.card.tflite_metadata import read_tflite_metadata
        meta = read_tflite_metadata(Path(source.path))
        first = (meta or {}).get("inputs") or [{}]
        if first[0].get("normalization"):
            image = first[0].get("image") or {}
            size = (image["width"], image["height"]) if image.get("width") and image.get("height") else None
            return {"origin": "TFLite metadata", "mean": first[0]["normalization"]["mean"],
                    "std": first[0]["normalization"]["std"], "size": size, "channels": "RGB"}
    if source.format == "keras":
        from edgebench.benchmarks.card.preprocess import _keras_layers
        layers = _keras_layers(Path(source.path))
        if layers:
            names = "+".join(sorted({str(layer["layer"]) for layer in layers}))
            return {"origin": f"Keras pre-processing layers ({names}, inside the graph: raw pixels)", "mean": [0.0],
                    "std": [1.0], "channels": "RGB"}
    raise UserError(f"--data: the model does not say how its image inputs are scaled (no TFLite normalization "
                    f"metadata, no Keras pre-processing layers); state it with --preprocess '{PREPROCESS_HELP}'")


def _geometry(spec: dict[str, Any], recipe: dict[str, Any]) -> tuple[str, int, int, int]:
    """(layout, height, width, channels) of the model's image input; UserError when it is not an image input."""
    shape = [int(d) if d is not None else -1 for d in spec["shape"]]
    layout = recipe.get("layout") or ("NCHW" if len(shape) == 4 and shape[1] in (1, 3) and shape[3] not in (1, 3)
                                      else "NHWC")
    if len(shape) != 4 or (shape[3] if layout == "NHWC" else shape[1]) not in (1, 3):
        raise UserError(f"--data DIR: the model's input {spec['name']!r} has shape {shape}: not an image input "
                        "(N,H,W,C or N,C,H,W with 1 or 3 channels); pass an .npz instead")
    h, w, c = (shape[1], shape[2], shape[3]) if layout == "NHWC" else (shape[2], shape[3], shape[1])
    if recipe.get("size"):
        sw, sh = recipe["size"]
        if (h > 0 and sh != h) or (w > 0 and sw != w):
            raise UserError(f"--data DIR: size {sw}x{sh} ({recipe['origin']}) does not fit the model's input "
                            f"{spec['name']!r} of shape {shape}")
        h, w = sh, sw
    if h <= 0 or w <= 0:
        raise UserError(f"--data DIR: the model's input {spec['name']!r} has no fixed image size ({shape}); give "
                        "one with --preprocess size=WxH or --input-shape")
    return layout, h, w, c


def _files(root: Path) -> list[tuple[Path, str | None]]:
    """Every image under root with its class (its sub-folder's name; None for images at the top)."""
    if not root.is_dir():
        raise UserError(f"--data {root}: not a folder")
    found = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not found:
        raise UserError(f"--data {root}: no images ({', '.join(IMAGE_SUFFIXES)}) in the folder or its sub-folders")
    return [(p, p.relative_to(root).parts[0] if len(p.relative_to(root).parts) > 1 else None) for p in found]


def _read(path: Path, h: int, w: int, c: int, recipe: dict[str, Any]) -> np.ndarray:
    """One image as [H, W, C] float32, resized (bilinear) and normalized: (pixel - mean) / std."""
    from PIL import Image, UnidentifiedImageError
    try:
        with Image.open(path) as opened:
            im = opened.convert("L" if c == 1 else "RGB").resize((w, h), Image.Resampling.BILINEAR)
            x = np.asarray(im, dtype=np.float32).reshape(h, w, c)
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise UserError(f"--data: cannot read image {path}: {one_line(exc, 200)}") from None
    if recipe.get("channels") == "BGR" and c == 3:
        x = x[..., ::-1]
    mean = np.asarray(recipe["mean"], np.float32)
    std = np.asarray(recipe["std"], np.float32)
    if mean.size not in (1, c) or std.size not in (1, c):
        raise UserError(f"--data: mean/std of {recipe['origin']} have {mean.size}/{std.size} values, the model's "
                        f"images have {c} channel(s)")
    return (x - mean) / std


def load_image_folder(root: str | Path, source: ModelSource, specs: list[dict[str, Any]],
                      statement: str | None) -> DataSet:
    """The folder's images as the model's single image input; labels when they sit in class sub-folders."""
    if len(specs) != 1:
        raise UserError(f"--data DIR feeds a model with one image input; this one has {len(specs)} inputs: pass "
                        "an .npz instead")
    recipe = _recipe(source, statement)
    layout, h, w, c = _geometry(specs[0], recipe)
    files = _files(Path(root))
    x = np.stack([_read(p, h, w, c, recipe) for p, _ in files])
    if layout == "NCHW":
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    dtype = np.dtype(specs[0].get("dtype") or "float32")
    if dtype.kind != "f":
        raise UserError(f"--data DIR: the model's input {specs[0]['name']!r} is {dtype.name}; images are given as "
                        "float inputs only (pass an .npz of its own values)")
    classes = sorted({k for _, k in files if k is not None})
    labelled = bool(classes) and all(k is not None for _, k in files)
    names = [int(k) for k in classes] if labelled and all(k.isdigit() for k in classes) else None
    y = np.array([(names or classes).index(int(k) if names else k) for _, k in files]) if labelled else None  # type: ignore[arg-type]
    return _split(x.astype(dtype), y, files, Path(root), recipe, (layout, h, w, c), classes if labelled else [])


def _split(x: np.ndarray, y: np.ndarray | None, files: list[tuple[Path, str | None]], root: Path,
           recipe: dict[str, Any], geometry: tuple[str, int, int, int], classes: list[str]) -> DataSet:
    """Every other image of each class calibrates, the rest measure accuracy (with one image, it does both)."""
    groups: dict[str | None, list[int]] = {}
    for i, (_, k) in enumerate(files):
        groups.setdefault(k, []).append(i)
    calib = sorted(i for idx in groups.values() for i in idx[1::2])
    acc = sorted(set(range(len(files))) - set(calib))
    layout, h, w, c = geometry
    mean, std = recipe["mean"], recipe["std"]
    how = (f"{recipe['origin']}: (pixel - {','.join(f'{m:g}' for m in mean)}) / {','.join(f'{s:g}' for s in std)}, "
           f"{w}x{h} {'gray' if c == 1 else recipe.get('channels', 'RGB')} {layout}")
    labels = f", labels from {len(classes)} sub-folders" if classes else ", unlabelled"
    data = DataSet([x[acc]], y[acc] if y is not None else None, "user",
                   f"{len(acc)} images from {root}{labels} (another {len(calib)} calibrate), preprocessed per {how}")
    data.details = {"source": str(root), "images": len(files), "calibration_images": len(calib),
                    "classes": classes, "preprocessing": {"origin": recipe["origin"], "mean": list(mean),
                                                           "std": list(std), "size": [w, h], "layout": layout,
                                                           "channels": recipe.get("channels", "RGB")}}
    data.calibration_inputs = [x[calib]] if calib else None
    return data
