"""Results of deterministic child-process work, kept in the cache by content: reference outputs and load tests.

A second run of the same model spends most of its time before measuring on work whose answer cannot have changed:
the source model in TensorFlow on the same inputs, each variant file loaded and run on the same inputs by the same
runtime version on the same CPU. The key holds everything the answer depends on (file contents, input arrays,
runtime and package versions, settings, CPU model and flags, and the code that computes it), so a hit is the same
computation, not an estimate.
Timings are never taken from here. Entries are .npz (read without pickle) plus a JSON sidecar, written atomically;
an unreadable entry is a miss.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from edgebench.benchmarks.isolation.npzio import read_arrays, write_arrays
from edgebench.optimizers.artifacts import cache_root

# Set to "0" to recompute everything (e.g. to check that a cached figure reproduces).
ENV_SWITCH = "EDGEBENCH_MEMO"


def enabled() -> bool:
    """Off when asked, and while faults are injected (tests of failures need the child to run and fail)."""
    return os.environ.get(ENV_SWITCH, "1") != "0" and not os.environ.get("EDGEBENCH_FAULT")


def arrays_digest(arrays: Sequence[np.ndarray]) -> str:
    """A hash of arrays' dtypes, shapes and bytes, in order."""
    h = hashlib.sha256()
    for a in arrays:
        arr = np.ascontiguousarray(a)
        h.update(f"{arr.dtype.str}{arr.shape}".encode())
        h.update(arr.tobytes())
    return h.hexdigest()


@functools.cache
def code_digest() -> str:
    """A hash of the code that produces the kept answers (building, reading and evaluating models): a change to
    how outputs are computed or ordered is a new key, never a stale hit."""
    here = Path(__file__).resolve().parent.parent  # edgebench/benchmarks
    h = hashlib.sha256()
    for f in sorted([*(here / "variants").rglob("*.py"), *(here / "measure").rglob("*.py")]):
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def memo_key(*parts: Any) -> str:
    payload = json.dumps([code_digest(), *parts], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def _paths(kind: str, key: str) -> tuple[Path, Path]:
    folder = cache_root() / "memo" / kind
    return folder / f"{key}.npz", folder / f"{key}.json"


def load(kind: str, key: str) -> tuple[list[np.ndarray], dict[str, Any]] | None:
    """(arrays, metadata) stored under `key`, or None on a miss or an unreadable entry."""
    if not enabled():
        return None
    npz, meta = _paths(kind, key)
    try:
        return read_arrays(npz), json.loads(meta.read_text())
    except (OSError, ValueError, KeyError):
        return None


def store(kind: str, key: str, arrays: Sequence[np.ndarray], meta: dict[str, Any]) -> None:
    """Keep an entry; a cache that cannot be written costs a recomputation next time, never this run."""
    if not enabled():
        return
    npz, side = _paths(kind, key)
    try:
        npz.parent.mkdir(parents=True, exist_ok=True)
        tmp_npz, tmp_side = npz.with_suffix(f".{os.getpid()}.tmp.npz"), side.with_suffix(f".{os.getpid()}.tmp")
        write_arrays(tmp_npz, arrays)
        tmp_side.write_text(json.dumps(meta, default=str))
        tmp_npz.replace(npz)  # the arrays first: a sidecar without its arrays is a miss, never a wrong hit
        tmp_side.replace(side)
    except OSError:
        return
