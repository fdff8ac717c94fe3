"""Evaluation and calibration inputs: the user's .npz, the embedded digits, or random data (with a loud warning)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgebench.results.errors import UserError, one_line

RANDOM_SAMPLES = 64
RANDOM_WARNING = ("accuracy measured on RANDOM inputs (no --data given): random data can saturate activations and "
                  "fake or hide mismatches; pass --data FILE.npz with real inputs")


@dataclass
class DataSet:
    inputs: list[np.ndarray]  # one array per model input, samples along axis 0, in the reference's input order
    labels: np.ndarray | None
    kind: str  # "embedded", "user" or "random"
    description: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "description": self.description, "samples": int(len(self.inputs[0])),
                "labelled": self.labels is not None}


def _sample_shape_ok(want: list[int], got: tuple[int, ...]) -> bool:
    """Whether a data array's sample shape fits the model's (symbolic dimensions, -1, take any size)."""
    return len(want) == len(got) and all(w is None or w < 0 or w == g for w, g in zip(want, got))


def random_data(specs: list[dict[str, Any]], n: int = RANDOM_SAMPLES) -> DataSet:
    from edgebench.benchmarks.build.shapes import require_fixed
    require_fixed(specs)
    rng = np.random.default_rng(0)
    inputs = []
    for spec in specs:
        shape = [n, *spec["shape"][1:]]
        dtype = np.dtype(spec["dtype"] if spec["dtype"] not in ("", None) else np.float32)
        if dtype.kind == "f":
            inputs.append(rng.uniform(-1.0, 1.0, size=shape).astype(dtype))
        elif dtype.kind in "iu":
            inputs.append(rng.integers(0, 10, size=shape).astype(dtype))
        else:
            inputs.append(rng.integers(0, 2, size=shape).astype(dtype))
    return DataSet(inputs, None, "random", f"{n} random samples (seed 0)")


def load_user_data(path: str | Path, specs: list[dict[str, Any]]) -> DataSet:
    """An .npz with one array per input (named as the input, or x / arr_0 for a single input) and optional labels y."""
    p = Path(path)
    if not p.is_file():
        raise UserError(f"data file not found: {p}")
    try:
        with np.load(p, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except Exception as exc:
        if "pickle" in str(exc):  # numpy's advice to allow pickle would let the file run code: never
            raise UserError(f"{p} holds pickled data, which edgebench never loads (it can run code); save plain "
                            "arrays with numpy.savez") from None
        raise UserError(f"{p} is not a readable .npz file: {one_line(exc, 200)}") from None
    labels = arrays.pop("y", None)
    from edgebench.benchmarks.build.reference import normalize_name
    by_norm = {normalize_name(k): v for k, v in arrays.items()}
    inputs = []
    for spec in specs:
        arr = by_norm.get(normalize_name(spec["name"]))
        if arr is None and len(specs) == 1 and len(arrays) == 1:
            arr = next(iter(arrays.values()))
        if arr is None:
            raise UserError(f"{p} has no array for input {spec['name']!r} (arrays: {', '.join(arrays) or 'none'})")
        want = [-1 if d is None else int(d) for d in spec["shape"][1:]]
        if arr.ndim == 0 or not _sample_shape_ok(want, arr.shape[1:]):
            raise UserError(f"{p}: array for input {spec['name']!r} has shape {list(arr.shape)}, the model wants "
                            f"[samples, {', '.join('?' if d < 0 else str(d) for d in want)}]".replace(", ]", "]"))
        inputs.append(arr)
    n = len(inputs[0])
    if n == 0 or any(len(x) != n for x in inputs) or (labels is not None and len(labels) != n):
        raise UserError(f"{p}: arrays must be non-empty and share their first (sample) dimension; their shapes: "
                        + ", ".join([f"{s['name']} {list(x.shape)}" for s, x in zip(specs, inputs)]
                                    + ([f"labels y {list(labels.shape)}"] if labels is not None else [])))
    return DataSet(inputs, labels, "user", f"{n} samples from {p.name}" + (" with labels" if labels is not None else ""))


def embedded_data() -> DataSet:
    from edgebench.benchmarks.build.default_model import TEST_SAMPLES, digits
    x, y = digits("test")
    return DataSet([x], y, "embedded", f"{TEST_SAMPLES} held-out scikit-learn digits (labelled, never used in training)")


def batch_of(inputs: list[np.ndarray], batch: int) -> list[np.ndarray]:
    """The first `batch` samples, repeated if the data set is smaller."""
    out = []
    for x in inputs:
        reps = -(-batch // len(x))
        out.append(np.ascontiguousarray(np.concatenate([x] * reps)[:batch]) if reps > 1 else np.ascontiguousarray(x[:batch]))
    return out
