"""Evaluation and calibration inputs: the user's .npz, the embedded digits, or random data (with a loud warning)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edgebench.benchmarks.isolation.npzio import sample_count
from edgebench.results.errors import UserError, one_line

RANDOM_SAMPLES = 64
RANDOM_VOCAB = 10  # random integer inputs are token ids below this, unless the user names the vocabulary size
RANDOM_WARNING = ("accuracy measured on RANDOM inputs (no --data given): random data can saturate activations and "
                  "fake or hide mismatches; pass --data FILE.npz with real inputs")


@dataclass
class DataSet:
    inputs: list[np.ndarray]  # one array per model input, in the reference's input order
    labels: np.ndarray | None
    kind: str  # "embedded", "user" or "random"
    description: str
    # each input's batch axis (0 unless the model says otherwise; None: no batch axis, shared by every sample)
    batch_axes: list[int | None] = field(default_factory=list)
    # where the inputs came from and how they were prepared (an image folder: its recipe), for results.json
    details: dict[str, Any] = field(default_factory=dict)
    # samples kept for calibration only, never measured for accuracy (an image folder's other half)
    calibration_inputs: list[np.ndarray] | None = None

    def __post_init__(self) -> None:
        if not self.batch_axes:
            self.batch_axes = [0 if x.ndim else None for x in self.inputs]

    @property
    def samples(self) -> int:
        return sample_count(self.inputs, self.batch_axes)

    def to_dict(self) -> dict[str, Any]:
        out = {"kind": self.kind, "description": self.description, "samples": self.samples,
               "labelled": self.labels is not None}
        if any(a != 0 for a in self.batch_axes):
            out["batch_axes"] = list(self.batch_axes)
        return {**out, **self.details}


def _fits(want: list[int], got: tuple[int, ...], axis: int | None) -> bool:
    """Whether a data array fits the model's shape (symbolic dimensions, -1, and the batch axis take any size)."""
    return len(want) == len(got) and all(i == axis or w is None or w < 0 or w == g
                                         for i, (w, g) in enumerate(zip(want, got)))


def _random_input(spec: dict[str, Any], shape: list[int], rng: np.random.Generator, vocab: int) -> np.ndarray:
    """Values of the input's own kind: floats in [-1, 1]; attention masks of ones; token type ids of zeros;
    other integers as token ids below the vocabulary size; random booleans."""
    dtype = np.dtype(spec["dtype"] if spec["dtype"] not in ("", None) else np.float32)
    name = spec["name"].lower()
    if dtype.kind == "f":
        return rng.uniform(-1.0, 1.0, size=shape).astype(dtype)
    if "mask" in name:
        return np.ones(shape, dtype)
    if dtype.kind in "iu":
        return np.zeros(shape, dtype) if "type" in name else rng.integers(0, vocab, size=shape).astype(dtype)
    return rng.integers(0, 2, size=shape).astype(dtype)


def random_data(specs: list[dict[str, Any]], n: int = RANDOM_SAMPLES, vocab: int | None = None) -> DataSet:
    from edgebench.benchmarks.variants.shapes import batch_axis, require_fixed
    require_fixed(specs)
    rng = np.random.default_rng(0)
    inputs, axes = [], []
    for spec in specs:
        axis = batch_axis(spec)
        shape = [n if i == axis else int(d) for i, d in enumerate(spec["shape"])]
        inputs.append(_random_input(spec, shape, rng, vocab or RANDOM_VOCAB))
        axes.append(axis)
    what = f"{n} random samples (seed 0" + (f", token ids below {vocab})" if vocab else ")")
    return DataSet(inputs, None, "random", what, axes)


def _declared_axes(arrays: dict[str, np.ndarray], p: Path) -> dict[str, int | None]:
    """The .npz's own `axes` entry: strings NAME=AXIS (AXIS `none` for an input every sample shares)."""
    raw = arrays.pop("axes", None)
    if raw is None:
        return {}
    from edgebench.benchmarks.variants.reference import normalize_name
    out: dict[str, int | None] = {}
    for item in np.atleast_1d(raw).tolist():
        name, sep, axis = str(item).partition("=")
        if not sep or not (axis.strip().lstrip("-").isdigit() or axis.strip().lower() == "none"):
            raise UserError(f"{p}: 'axes' entries must read NAME=AXIS or NAME=none, got {str(item)!r}")
        out[normalize_name(name.strip())] = None if axis.strip().lower() == "none" else int(axis)
    return out


def _read_npz(p: Path) -> dict[str, np.ndarray]:
    if not p.is_file():
        raise UserError(f"data file not found: {p}")
    try:
        with np.load(p, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except Exception as exc:
        if "pickle" in str(exc):  # numpy's advice to allow pickle would let the file run code: never
            raise UserError(f"{p} holds pickled data, which edgebench never loads (it can run code); save plain "
                            "arrays with numpy.savez") from None
        raise UserError(f"{p} is not a readable .npz file: {one_line(exc, 200)}") from None


def load_user_data(path: str | Path, specs: list[dict[str, Any]]) -> DataSet:
    """An .npz with one array per input (named as the input, or x / arr_0 for a single input), optional labels y and
    optional `axes` (NAME=AXIS strings) for inputs whose batch axis is not the one the model implies."""
    from edgebench.benchmarks.variants.reference import normalize_name
    from edgebench.benchmarks.variants.shapes import batch_axis
    p = Path(path)
    arrays = _read_npz(p)
    labels = arrays.pop("y", None)
    declared = _declared_axes(arrays, p)
    by_norm = {normalize_name(k): v for k, v in arrays.items()}
    inputs, axes = [], []
    for spec in specs:
        arr = by_norm.get(normalize_name(spec["name"]))
        if arr is None and len(specs) == 1 and len(arrays) == 1:
            arr = next(iter(arrays.values()))
        if arr is None:
            raise UserError(f"{p} has no array for input {spec['name']!r} (arrays: {', '.join(arrays) or 'none'})")
        axis = declared.get(normalize_name(spec["name"]), batch_axis(spec))
        want = [-1 if d is None else int(d) for d in spec["shape"]]
        if axis is not None and not -arr.ndim <= axis < arr.ndim:
            raise UserError(f"{p}: batch axis {axis} of input {spec['name']!r} is outside its {arr.ndim} axes")
        axis = None if axis is None else axis % max(arr.ndim, 1)
        if not _fits(want, arr.shape, axis):
            wanted = ", ".join("samples" if i == axis else "?" if d < 0 else str(d) for i, d in enumerate(want))
            raise UserError(f"{p}: array for input {spec['name']!r} has shape {list(arr.shape)}, the model wants "
                            f"[{wanted}]")
        inputs.append(arr)
        axes.append(axis)
    counts = {x.shape[a] for x, a in zip(inputs, axes) if a is not None}
    if len(counts) > 1 or 0 in counts or (labels is not None and counts and len(labels) not in counts):
        raise UserError(f"{p}: arrays must be non-empty and agree on their number of samples along each one's batch "
                        "axis (declare an input's with an 'axes' entry, e.g. axes=['state=1']); their shapes: " + ", ".join(
                            [f"{s['name']} {list(x.shape)} (batch axis {a})" for s, x, a in zip(specs, inputs, axes)]
                            + ([f"labels y {list(labels.shape)}"] if labels is not None else [])))
    data = DataSet(inputs, labels, "user", "", axes)
    data.description = f"{data.samples} samples from {p.name}" + (" with labels" if labels is not None else "")
    return data


def embedded_data() -> DataSet:
    from edgebench.benchmarks.variants.default_model import TEST_SAMPLES, digits
    x, y = digits("test")
    return DataSet([x], y, "embedded", f"{TEST_SAMPLES} held-out scikit-learn digits (labelled, never used in training)")


def batch_of(inputs: list[np.ndarray], batch: int, axes: list[int | None] | None = None) -> list[np.ndarray]:
    """The first `batch` samples along each input's batch axis, repeated if the data set is smaller; inputs without a
    batch axis as they are."""
    out = []
    for x, axis in zip(inputs, axes or [0] * len(inputs)):
        if axis is None:
            out.append(np.array(x))  # ascontiguousarray would make a rank-0 input rank 1
            continue
        reps = -(-batch // x.shape[axis])
        whole = np.concatenate([x] * reps, axis=axis) if reps > 1 else x
        out.append(np.ascontiguousarray(np.take(whole, np.arange(batch), axis=axis)))
    return out
