"""The mixed-precision variants' names and which variants a search starts from: what the build stage needs to know
of the search without importing it (the search imports the stages that check and measure)."""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from edgebench.benchmarks.variants.specs import STATIC_FAMILY

if TYPE_CHECKING:
    from edgebench.benchmarks.run.context import RunContext

MIXED_ORT = f"{STATIC_FAMILY}-mixed"
MIXED_LITERT = "tflite-int8-mixed"


def is_full_int8(name: str, runtime: str) -> bool:
    """The variants whose failure to keep the budget starts a search: static int8 (ORT), full-integer (LiteRT)."""
    if runtime == "onnxruntime":
        return name.startswith(STATIC_FAMILY) and name != MIXED_ORT
    return name in ("tflite-int8", "tflite-int8-io")


def resumed_search(ctx: RunContext, left: Callable[[str, str], bool]) -> set[str]:
    """The runtimes whose mixed variant the resumed run (ctx.opts.resume) made but did not finish measuring: their
    search runs again (its candidates come from the cache), so their full-int8 variants must be built again."""
    prior = ctx.opts.resume
    searched = (prior.doc.get("mixed_search") or {}) if prior else {}
    names = {"onnxruntime": MIXED_ORT, "litert": MIXED_LITERT}
    return {rt for rt, info in searched.items() if rt in names and (info or {}).get("layers_in_float")
            and left(names[rt], rt)}
