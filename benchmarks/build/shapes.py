"""Input shapes: symbolic dimensions (PyTorch/Paddle exports: `[-1, 3, -1, -1]`, `batch`, `sequence`) fixed by the
user's `--input-shape NAME=1,3,48,320` or by the arrays of `--data`, checked against the model before anything runs.

An input spec is {"name", "shape", "dtype"} with -1 for a symbolic dimension, optionally "dim_names" (the model's
names for its symbolic dimensions, None for fixed ones). Axis 0 is the batch axis: it may stay symbolic, the
batch size of each benchmark fills it; every other symbolic dimension must be fixed before data can be made.
"""
from __future__ import annotations

import copy
from typing import Any

from edgebench.results.errors import UserError

FLAG = "--input-shape"
SHAPE_HELP = ("fix an input's symbolic dimensions, e.g. x=1,3,48,320 (repeat per input; --data's arrays fix them "
              "too); e.g. bench run ocr.onnx --input-shape x=1,3,48,320")


def parse_shape_arg(text: str) -> tuple[str, list[int]]:
    """`NAME=1,3,48,320` -> ("NAME", [1, 3, 48, 320]); ValueError with the reason (argparse turns it into one line)."""
    name, sep, dims = text.rpartition("=")
    if not sep or not name.strip():
        raise ValueError(f"expected NAME=D0,D1,... (e.g. x=1,3,48,320), got {text!r}")
    try:
        shape = [int(d) for d in dims.split(",")] if dims.strip() else []
    except ValueError:
        raise ValueError(f"expected comma-separated integer dimensions after '=', got {text!r}") from None
    if any(d <= 0 for d in shape):
        raise ValueError(f"every dimension must be a positive integer, got {text!r}")
    return name.strip(), shape


def shape_arg(text: str) -> tuple[str, list[int]]:
    """parse_shape_arg for argparse: its reason becomes the usage error's one line."""
    import argparse
    try:
        return parse_shape_arg(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _dims_text(spec: dict[str, Any]) -> str:
    names = spec.get("dim_names") or [None] * len(spec["shape"])
    return "[" + ", ".join(str(d) if d >= 0 else (n or "?") for d, n in zip(spec["shape"], names)) + "]"


def unfixed(spec: dict[str, Any]) -> list[int]:
    """The axes (after the batch axis) that are symbolic and must be fixed before inputs can be made."""
    return [i for i, d in enumerate(spec["shape"]) if i > 0 and (d is None or d < 0)]


def _example(spec: dict[str, Any]) -> str:
    shape = spec["shape"]
    return ",".join("1" if i == 0 and d < 0 else "N" if d < 0 else str(d) for i, d in enumerate(shape))


def require_fixed(specs: list[dict[str, Any]]) -> None:
    """One line naming every symbolic dimension that neither --input-shape nor --data fixed, and the flag to use."""
    open_ = [s for s in specs if unfixed(s)]
    if not open_:
        return
    what = "; ".join(f"input {s['name']!r} {_dims_text(s)} (axes {', '.join(map(str, unfixed(s)))} symbolic)"
                     for s in open_)
    flags = " ".join(f"{FLAG} {s['name']}={_example(s)}" for s in open_)
    raise UserError(f"symbolic input dimensions must be fixed: {what}; pass {flags} (N = the size you deploy with) "
                    "or --data FILE.npz with real inputs")


def fix_shapes(specs: list[dict[str, Any]], overrides: dict[str, list[int]] | None) -> list[dict[str, Any]]:
    """The specs with the user's shapes put in: unknown names, wrong ranks and dimensions that contradict a fixed
    dimension of the model end with one line (UserError). The model's own shape stays in "declared_shape"."""
    out = copy.deepcopy(specs)
    if not overrides:
        return out
    from edgebench.benchmarks.build.reference import normalize_name
    by_norm = {normalize_name(s["name"]): s for s in out}
    for name, shape in overrides.items():
        spec = by_norm.get(normalize_name(name))
        if spec is None:
            raise UserError(f"{FLAG} names input {name!r}, which the model does not have (inputs: "
                            f"{', '.join(repr(s['name']) for s in out)})")
        declared = [-1 if d is None else int(d) for d in spec["shape"]]
        if len(shape) != len(declared):
            raise UserError(f"{FLAG} {name}={','.join(map(str, shape))} has rank {len(shape)}, but input "
                            f"{spec['name']!r} has rank {len(declared)}: {_dims_text(spec)}")
        clash = [i for i, (d, s) in enumerate(zip(declared, shape)) if d >= 0 and d != s]
        if clash:
            i = clash[0]
            raise UserError(f"{FLAG} {name}={','.join(map(str, shape))}: the model rejects this shape, its input "
                            f"{spec['name']!r} is {_dims_text(spec)} (axis {i} must be {declared[i]})")
        spec["declared_shape"] = declared
        # the batch axis stays open when the model leaves it open: the batch of each benchmark fills it
        spec["shape"] = [-1 if i == 0 and declared[0] < 0 else s for i, s in enumerate(shape)]
    return out


def override_batches(overrides: dict[str, list[int]] | None) -> list[int] | None:
    """The batch size the shapes name (their axis 0), when it is not 1 and all agree: the run's batch then."""
    sizes = {s[0] for s in (overrides or {}).values() if s}
    return [sizes.pop()] if len(sizes) == 1 and sizes != {1} else None


def from_data(specs: list[dict[str, Any]], sample_shapes: list[tuple[int, ...]]) -> list[dict[str, Any]]:
    """The specs with their symbolic dimensions (after the batch axis) taken from the data's sample shapes."""
    out = copy.deepcopy(specs)
    for spec, sample in zip(out, sample_shapes):
        shape = [-1 if d is None else int(d) for d in spec["shape"]]
        if not shape:
            continue
        fixed = [shape[0], *[int(v) for v in sample]]
        if fixed != shape:
            spec.setdefault("declared_shape", shape)
            spec["shape"] = fixed
    return out
