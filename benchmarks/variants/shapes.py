"""Input shapes: symbolic dimensions (PyTorch/Paddle exports: `[-1, 3, -1, -1]`, `batch`, `sequence`) fixed by the
user's `--input-shape NAME=1,3,48,320` or by the arrays of `--data`, checked against the model before anything runs.

An input spec is {"name", "shape", "dtype"} with -1 for a symbolic dimension, optionally "dim_names" (the model's
names for its symbolic dimensions, None for fixed ones) and "batch_axis". The batch axis may stay symbolic, the
batch size of each benchmark fills it; every other symbolic dimension must be fixed before data can be made. It is
axis 0, except where the model names the symbolic dimension that is axis 0 of its other inputs (`batch`) at another
axis (a recurrent state `[2, batch, 128]`), and a rank-0 input has none (every sample shares it).
"""
from __future__ import annotations

import argparse
import copy
from typing import Any

from edgebench.results.errors import UserError

FLAG = "--input-shape"


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


def add_input_args(parser: argparse.ArgumentParser) -> None:
    """`bench run`'s options about the model's inputs; a bad value is the usage error's one line."""
    def shape(text: str) -> tuple[str, list[int]]:
        try:
            return parse_shape_arg(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    def vocab(text: str) -> int:
        if not text.isdigit() or int(text) < 1:
            raise argparse.ArgumentTypeError(f"expected a positive vocabulary size, got {text!r}")
        return int(text)

    parser.add_argument("--input-shape", type=shape, action="append", metavar="NAME=D0,D1,...",
                        help="fix an input's symbolic dimensions, e.g. x=1,3,48,320 (repeat per input; --data's "
                        "arrays fix them too); e.g. bench run ocr.onnx --input-shape x=1,3,48,320")
    parser.add_argument("--vocab-size", type=vocab, metavar="N", help="random integer inputs (token ids) stay "
                        "below N (default 10); attention masks are ones, token type ids zeros")


def _dims_text(spec: dict[str, Any]) -> str:
    names = spec.get("dim_names") or [None] * len(spec["shape"])
    return "[" + ", ".join(str(d) if d >= 0 else (n or "?") for d, n in zip(spec["shape"], names)) + "]"


def batch_axis(spec: dict[str, Any]) -> int | None:
    return spec.get("batch_axis", 0 if spec["shape"] else None)


def infer_batch_axes(specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The specs with "batch_axis" set: where the symbolic name that is axis 0 of most inputs (`batch`) appears,
    else axis 0; None for rank-0 inputs."""
    out = copy.deepcopy(specs)
    firsts = [(s.get("dim_names") or [None])[0] for s in out if s["shape"]]
    named = [n for n in firsts if n]
    batch_name = max(set(named), key=named.count) if named else None
    for spec in out:
        names = spec.get("dim_names") or []
        if not spec["shape"]:
            spec["batch_axis"] = None
        elif batch_name and batch_name in names:
            spec["batch_axis"] = names.index(batch_name)
        else:
            spec["batch_axis"] = 0
    return out


def unfixed(spec: dict[str, Any]) -> list[int]:
    """The axes (but the batch axis) that are symbolic and must be fixed before inputs can be made."""
    return [i for i, d in enumerate(spec["shape"]) if i != batch_axis(spec) and (d is None or d < 0)]


def _example(spec: dict[str, Any]) -> str:
    b = batch_axis(spec)
    return ",".join("1" if i == b and d < 0 else "N" if d < 0 else str(d) for i, d in enumerate(spec["shape"]))


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
    from edgebench.benchmarks.variants.reference import normalize_name
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
        b = batch_axis(spec)
        spec["shape"] = [-1 if i == b and declared[i] < 0 else s for i, s in enumerate(shape)]
    return out


def override_batches(specs: list[dict[str, Any]], overrides: dict[str, list[int]] | None) -> list[int] | None:
    """The batch size the user's shapes name on the batch axis of inputs that have one, when it is not 1 and all
    agree: the run's batch then (unless --batch says otherwise)."""
    from edgebench.benchmarks.variants.reference import normalize_name
    axes = {normalize_name(s["name"]): batch_axis(s) for s in specs}
    sizes = {shape[axis] for name, shape in (overrides or {}).items()
             if (axis := axes.get(normalize_name(name))) is not None and axis < len(shape)}
    return [sizes.pop()] if len(sizes) == 1 and sizes != {1} else None


def from_data(specs: list[dict[str, Any]], shapes: list[tuple[int, ...]],
              axes: list[int | None]) -> list[dict[str, Any]]:
    """The specs with their symbolic dimensions (but the batch axis) taken from the data's array shapes, and the
    batch axes the data was read with."""
    out = copy.deepcopy(specs)
    for spec, full, axis in zip(out, shapes, axes):
        shape = [-1 if d is None else int(d) for d in spec["shape"]]
        spec["batch_axis"] = axis
        if not shape or len(full) != len(shape):
            continue
        fixed = [shape[i] if i == axis else int(v) for i, v in enumerate(full)]
        if fixed != shape:
            spec.setdefault("declared_shape", shape)
            spec["shape"] = fixed
    return out


def onnx_input_names(path: str) -> list[str]:
    """An ONNX file's real inputs: graph inputs that are not initializers (older exporters list weights as inputs)."""
    import onnx
    graph = onnx.load(path, load_external_data=False).graph
    inits = {t.name for t in graph.initializer}
    return [i.name for i in graph.input if i.name not in inits]
