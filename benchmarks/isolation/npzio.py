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


def read_arrays(path: str | Path, prefix: str = PREFIX) -> list[np.ndarray]:
    """The arrays <prefix>0, <prefix>1, ... of an .npz, in order; other arrays in the file are left out."""
    out: list[np.ndarray] = []
    with np.load(path, allow_pickle=False) as npz:
        while f"{prefix}{len(out)}" in npz.files:
            out.append(npz[f"{prefix}{len(out)}"])
    return out


def read_named(path: str | Path, name: str) -> np.ndarray | None:
    """One array of an .npz by name, or None when the file has no such array."""
    with np.load(path, allow_pickle=False) as npz:
        return npz[name] if name in npz.files else None
