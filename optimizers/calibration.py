"""Calibration samples for static quantization, with a fingerprint so cached files are keyed by the data they saw."""
from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

RANDOM_CALIBRATION_NOTE = ("CALIBRATED ON RANDOM DATA: int8 ranges (and so accuracy) are not meaningful; "
                           "pass --data FILE.npz with real inputs")


@dataclass(frozen=True)
class CalibrationSet:
    """One array per model input, keyed by the *target model's* input names, samples along axis 0."""

    arrays: dict[str, np.ndarray]
    kind: str  # "embedded", "user" or "random"
    description: str
    # an input's batch axis when it is not 0 (None: no batch axis, the same array in every feed)
    batch_axes: dict[str, int | None] = field(default_factory=dict)

    def _axis(self, name: str) -> int | None:
        return self.batch_axes.get(name, 0)

    def __post_init__(self) -> None:
        counts = {a.shape[ax] for n, a in self.arrays.items() if (ax := self._axis(n)) is not None}
        if not self.arrays or len(counts) > 1 or 0 in counts:
            raise ValueError("calibration data needs the same non-zero number of samples for every input")

    @property
    def samples(self) -> int:
        counts = [a.shape[ax] for n, a in self.arrays.items() if (ax := self._axis(n)) is not None]
        return counts[0] if counts else 1

    def fingerprint(self) -> str:
        h = hashlib.sha256()
        for name in sorted(self.arrays):
            a = np.ascontiguousarray(self.arrays[name])
            h.update(f"{name}|{a.dtype.str}|{a.shape}".encode())
            h.update(a.tobytes())
        return h.hexdigest()

    def settings(self) -> dict[str, Any]:
        """What goes into a pass's settings (and so its cache key and lineage)."""
        return {"kind": self.kind, "samples": self.samples, "sha256": self.fingerprint()}

    def feeds(self) -> Iterator[dict[str, np.ndarray]]:
        """Batch-1 feeds, the shape deployed models are calibrated and run at."""
        for i in range(self.samples):
            yield {name: a if (ax := self._axis(name)) is None else np.take(a, [i], axis=ax)
                   for name, a in self.arrays.items()}

    def notes(self) -> list[str]:
        return [RANDOM_CALIBRATION_NOTE] if self.kind == "random" else []
