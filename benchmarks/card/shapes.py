"""The input shapes a card's load tests and golden vector use: --input-shape, --data, else the model's own hints.

A symbolic dimension the user did not fix is taken, in this order, from the model's metadata (`imgsz`, `image_size`,
`input_size`, ... as Ultralytics and others write it), from another input that names the same dimension with a size,
and for an image input (rank 4, 1/3/4 channels at axis 1 or 3) from a typical size: 640 for a detector (a model with
NonMaxSuppression, a `stride` in its metadata, or an input named `images`), a text-line width of 320 when the height
is fixed and small (OCR recognisers: 48 x 320), else 224. Both are multiples of 32, the stride of most backbones. A
spatial dimension is never invented as 1: a model that cannot run on a 1x1 image is not one the runtime refuses.
Every choice is stated in the card.
"""
from __future__ import annotations

import ast
from typing import Any

from edgebench.results.errors import UserError

_SIZE_KEYS = ("imgsz", "image_size", "img_size", "input_size", "imagesize", "input_shape", "resolution")
DETECTOR_SIZE, IMAGE_SIZE, TEXT_LINE_WIDTH, OTHER = 640, 224, 320, 16


def _meta_size(model: Any) -> tuple[int, int] | None:
    """(H, W) from metadata such as imgsz='[640, 640]' or image_size='224'."""
    for prop in model.metadata_props:
        if prop.key.lower() not in _SIZE_KEYS:
            continue
        try:
            value = ast.literal_eval(prop.value.strip())
        except (ValueError, SyntaxError):
            continue
        nums = [int(v) for v in (value if isinstance(value, (list, tuple)) else [value]) if isinstance(v, int)]
        nums = [n for n in nums if n > 4]  # [1, 3, 640, 640] -> 640, 640: channels and batch are not sizes
        if nums:
            return (nums[-2], nums[-1]) if len(nums) >= 2 else (nums[0], nums[0])
    return None


def is_detector(model: Any, name: str) -> bool:
    ops = {n.op_type for n in model.graph.node}
    meta = {p.key.lower() for p in model.metadata_props}
    return "NonMaxSuppression" in ops or "stride" in meta or name.lower() in ("images", "image_tensor")


def _spatial(shape: list[Any]) -> list[int]:
    """The H and W axes of an image input, else []."""
    if len(shape) != 4:
        return []
    if isinstance(shape[1], int) and shape[1] in (1, 3, 4):
        return [2, 3]
    if isinstance(shape[3], int) and shape[3] in (1, 3, 4):
        return [1, 2]
    return []


def _named_sizes(tensors: list[dict[str, Any]], overrides: dict[str, list[int]]) -> dict[str, int]:
    """Symbolic dim name -> size, from the user's shapes of other inputs that name the same dimension."""
    out: dict[str, int] = {}
    for t in tensors:
        shape = overrides.get(t["name"])
        if shape and len(shape) == len(t["shape"]):
            for d, v in zip(t["shape"], shape):
                if isinstance(d, str):
                    out.setdefault(d, v)
    return out


def _guess(model: Any, t: dict[str, Any], named: dict[str, int]) -> tuple[list[int], list[str]]:
    shape, axes = list(t["shape"]), _spatial(t["shape"])
    meta = _meta_size(model)
    out, why = [], []
    for i, d in enumerate(shape):
        if isinstance(d, int) and d > 0:
            out.append(d)
        elif isinstance(d, str) and d in named:
            out.append(named[d])
            why.append(f"{d}={named[d]} (as another input)")
        elif i == t.get("batch_axis"):
            out.append(1)
        elif i in axes:
            other = shape[axes[1] if i == axes[0] else axes[0]]
            if meta:
                size, src = meta[axes.index(i)], "the model's metadata"
            elif isinstance(other, int) and other > 0 and i == axes[1] and other <= 64:
                size, src = TEXT_LINE_WIDTH, f"a typical text-line width for height {other}"
            elif is_detector(model, t["name"]):
                size, src = DETECTOR_SIZE, "a typical detector input, a multiple of 32"
            else:
                size, src = IMAGE_SIZE, "a typical image size, a multiple of 32"
            out.append(size)
            why.append(f"{'H' if i == axes[0] else 'W'}={size} ({src})")
        else:
            out.append(OTHER)
            why.append(f"{d or f'axis {i}'}={OTHER} (an assumed size)")
    return out, why


def card_shapes(model: Any, tensors: list[dict[str, Any]], overrides: dict[str, list[int]] | None = None,
                data: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Input name -> {"shape": [int, ...], "origin": one line}; overrides / data arrays are by input name (a bad
    name or rank is the user's one line)."""
    from edgebench.benchmarks.variants.reference import normalize_name

    by_norm = {normalize_name(t["name"]): t["name"] for t in tensors}
    for name in overrides or {}:
        if normalize_name(name) not in by_norm:
            raise UserError(f"--input-shape names input {name!r}, which the model does not have (inputs: "
                            f"{', '.join(repr(t['name']) for t in tensors)})")
    overrides = {by_norm[normalize_name(k)]: v for k, v in (overrides or {}).items()}
    named = _named_sizes(tensors, overrides)
    out: dict[str, dict[str, Any]] = {}
    for t in tensors:
        if data and t["name"] in data:
            out[t["name"]] = {"shape": [int(d) for d in data[t["name"]].shape], "origin": "--data"}
            continue
        given = overrides.get(t["name"])
        if given is not None:
            if len(given) != len(t["shape"]) or any(isinstance(d, int) and d > 0 and d != g
                                                    for d, g in zip(t["shape"], given)):
                raise UserError(f"--input-shape {t['name']}={','.join(map(str, given))} does not fit the model's "
                                f"input {t['name']!r} [{', '.join(str(d or '?') for d in t['shape'])}]")
            out[t["name"]] = {"shape": list(given), "origin": "--input-shape"}
            continue
        shape, why = _guess(model, t, named)
        out[t["name"]] = {"shape": shape, "origin": ("chosen here: " + ", ".join(why) + "; --input-shape "
                                                     "overrides") if why else "the model's own (fixed)"}
    return out


def read_data(path: str, tensors: list[dict[str, Any]]) -> dict[str, Any]:
    """One sample per input from an .npz given to --data, read as `bench run` reads it (names, batch axes)."""
    from edgebench.benchmarks.isolation.npzio import take_samples
    from edgebench.benchmarks.variants.data import load_user_data

    specs = [{"name": t["name"], "dtype": t["dtype"], "batch_axis": t.get("batch_axis"),
              "shape": [d if isinstance(d, int) and d > 0 else -1 for d in t["shape"]]} for t in tensors]
    found = load_user_data(path, specs)
    first = take_samples(found.inputs, found.batch_axes, 0, 1)
    return {t["name"]: a for t, a in zip(tensors, first)}
