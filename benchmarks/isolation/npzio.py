"""Arrays handed to and from child processes as .npz files: arr_0, arr_1, ... in order, never pickled.

The names are numpy.savez's own for positional arrays, so `np.savez(path, *arrays)` and `write_arrays` make the same
file. Build and measure code both use this; it sits in isolation/, below them both.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

PREFIX = "arr_"


def write_arrays(path: str | Path, arrays: Sequence[np.ndarray], prefix: str = PREFIX,
                 **named: np.ndarray | None) -> None:
    """`arrays` as <prefix>0, <prefix>1, ..., plus the `named` arrays that are not None beside them."""
    contents: dict[str, Any] = {f"{prefix}{i}": a for i, a in enumerate(arrays)}
    contents.update({name: a for name, a in named.items() if a is not None})
    np.savez(path, **contents)


def read_named(path: str | Path, name: str) -> np.ndarray | None:
    """One array of an .npz by name, or None when the file has no such array."""
    with np.load(path, allow_pickle=False) as npz:
        return npz[name] if name in npz.files else None


def read_arrays(path: str | Path, prefix: str = PREFIX) -> list[np.ndarray]:
    """The arrays <prefix>0, <prefix>1, ... of an .npz, in order; other arrays in the file are left out."""
    out: list[np.ndarray] = []
    with np.load(path, allow_pickle=False) as npz:
        while f"{prefix}{len(out)}" in npz.files:
            out.append(npz[f"{prefix}{len(out)}"])
    return out


# --- samples along a batch axis that is not always axis 0 -------------------------------------------------------
# An input's batch axis: 0 for most, 1 for a recurrent state [layers, batch, units], None for an input without one
# (a rank-0 sample rate), which every sample shares. Files carry them as AXES_KEY, -1 standing for None.
AXES_KEY = "batch_axes"


def encode_axes(axes: Sequence[int | None] | None) -> np.ndarray | None:
    return None if axes is None else np.array([-1 if a is None else int(a) for a in axes], np.int64)


def read_axes(path: str | Path, count: int) -> list[int | None]:
    """The batch axes a file carries for its `count` arrays (axis 0 for each when it carries none)."""
    stored = read_named(path, AXES_KEY)
    if stored is None or len(stored) != count:
        return [0] * count
    return [None if int(a) < 0 else int(a) for a in stored]


def sample_count(arrays: Sequence[np.ndarray], axes: Sequence[int | None]) -> int:
    """Samples along the batch axes (1 when no array has one: every input is shared)."""
    counts = [a.shape[ax] for a, ax in zip(arrays, axes) if ax is not None]
    return counts[0] if counts else 1


def take_samples(arrays: Sequence[np.ndarray], axes: Sequence[int | None], start: int, stop: int) -> list[np.ndarray]:
    """Samples start..stop of each array along its batch axis; arrays without one are passed whole."""
    return [a if ax is None else np.take(a, np.arange(start, stop), axis=ax) for a, ax in zip(arrays, axes)]
