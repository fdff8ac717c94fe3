"""LiteRT against ONNX Runtime, variant for variant: the runtimes' variants paired by numeric precision."""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from edgebench.results.record import Record
from edgebench.results.selection import batch_of, is_ok, median_ms, threads_of, within_budget

# Variants that run the same numerics on each runtime; a name not listed is classified by its spelling, so
# variants added later still pair up (e.g. a new "onnx-foo-int8").
FAMILIES: dict[str, str] = {
    "tflite-fp32": "fp32", "onnx-fp32": "fp32", "onnx-simplified": "fp32", "onnx-optimized": "fp32",
    "ort-format": "fp32", "tflite-fp16": "fp16", "tflite-dynamic-int8": "dynamic int8",
    "onnx-dynamic-int8": "dynamic int8", "tflite-int8": "static int8", "onnx-static-int8": "static int8",
}
FAMILY_ORDER = ("fp32", "fp16", "dynamic int8", "static int8")


def precision_family(variant: Any) -> str:
    name = str(variant).lower()
    if name in FAMILIES:
        return FAMILIES[name]
    if "dynamic" in name:
        return "dynamic int8"
    for fam in ("int8", "fp16", "bf16", "int4", "uint8"):
        if fam in name:
            return "static int8" if fam in ("int8", "uint8") else fam
    return "fp32" if "fp32" in name else "other"


@dataclass(frozen=True)
class RuntimePair:
    family: str
    threads: int
    batch: int
    litert: Record | None  # the fastest LiteRT record of this family, threads and batch
    onnxruntime: Record | None

    @property
    def ratio(self) -> float | None:
        """LiteRT median / ONNX Runtime median: above 1 means ONNX Runtime is faster."""
        if self.litert is None or self.onnxruntime is None:
            return None
        ort, lit = median_ms(self.onnxruntime), median_ms(self.litert)
        return lit / ort if ort and lit is not None else None


def _fastest(records: list[Record]) -> Record | None:
    # Prefer variants within the accuracy budget: a fast variant that breaks it is no answer for the comparison.
    if not records:
        return None
    good = [r for r in records if within_budget(r) is not False] or records
    return min(good, key=lambda r: median_ms(r) or math.inf)


def runtime_pairs(records: Sequence[Record]) -> list[RuntimePair]:
    """One pair per (precision family, threads, batch) that at least one runtime measured."""
    ok = [r for r in records if is_ok(r)]
    keys = sorted({(precision_family(r.get("variant")), threads_of(r), batch_of(r)) for r in ok},
                  key=lambda k: (FAMILY_ORDER.index(k[0]) if k[0] in FAMILY_ORDER else len(FAMILY_ORDER), k))
    out = []
    for fam, t, b in keys:
        same = [r for r in ok if (precision_family(r.get("variant")), threads_of(r), batch_of(r)) == (fam, t, b)]
        out.append(RuntimePair(fam, t, b, _fastest([r for r in same if r.get("runtime") == "litert"]),
                               _fastest([r for r in same if r.get("runtime") == "onnxruntime"])))
    return out
