"""Between the accuracy check and measuring: a mixed-precision search when full int8 breaks the accuracy budget.

Per runtime, when every full-int8 variant it built breaks the budget (or `bench run --mixed` asks), the layers are
ranked by how much accuracy their quantization loses (the runtime's own debugging tool) and the fewest, most
sensitive ones are kept in float (edgebench.benchmarks.run.mixed_search). Each candidate is built, load-tested and
compared with the reference like any variant, and screened once; the smallest within the budget becomes the variant
`onnx-static-int8-mixed` / `tflite-int8-mixed`, measured like the others. Its record's `mixed_precision` lists the
layers kept in float, the steps and the search's cost; results.json's `mixed_search` has the same per runtime.
The profile's `[quantization] mixed_search_s` bounds the search's time; when it runs out, the best so far is kept.
"""
from __future__ import annotations

from typing import Any

from edgebench.benchmarks.measure.accuracy import budget_violations
from edgebench.benchmarks.run.context import BuiltVariant, RunContext
from edgebench.benchmarks.run.mixed_litert import search_litert
from edgebench.benchmarks.run.mixed_names import MIXED_LITERT, is_full_int8
from edgebench.benchmarks.run.mixed_ort import search_ort
from edgebench.optimizers.errors import one_line

DYNAMIC_INT8 = ("onnx-dynamic-int8", "tflite-dynamic-int8")  # int8 too: when one keeps the budget, no search


def _over_budget(ctx: RunContext, bv: BuiltVariant) -> bool:
    return "error" in bv.accuracy or bool(budget_violations(bv.accuracy, ctx.budget))


def _checked(bv: BuiltVariant) -> bool:
    return not bv.error and bool(bv.accuracy) and set(bv.accuracy) != {"data"}


def wanted(ctx: RunContext, built: list[BuiltVariant], runtime: str) -> list[BuiltVariant]:
    """The full-int8 variants a search would start from (fastest at the load test first), or [] for no search: none
    was built and checked, or (without `--mixed`) one of them keeps the budget, or another int8 variant of the
    runtime does (dynamic-range int8). Why the last: the default model's ORT static int8 loses 3 points of top-1
    while its dynamic int8 keeps them; a search there kept 30 of 66 layers in float, took 83 s of a 180 s run and
    changed the run's recommendation, when the runtime already had an int8 variant within the budget. A run given
    `--variants` builds what it names and nothing more: the search then runs only with `--mixed`."""
    if ctx.opts.variants and not ctx.opts.mixed:
        return []
    int8 = [bv for bv in built if bv.runtime == runtime and is_full_int8(bv.name, bv.runtime) and _checked(bv)]
    if not int8:
        return []
    if not ctx.opts.mixed:
        other = [bv for bv in built if bv.runtime == runtime and bv.name in DYNAMIC_INT8 and _checked(bv)]
        if not all(_over_budget(ctx, bv) for bv in int8 + other):
            return []
    return sorted(int8, key=lambda bv: bv.seconds_per_inference)


def mixed_variants(ctx: RunContext, built: list[BuiltVariant], reference: list[Any] | None,
                   converter: Any = None) -> list[BuiltVariant]:
    """`built` plus each runtime's mixed-precision variant, for the runtimes whose full int8 breaks the budget."""
    if reference is None:
        return built
    out = list(built)
    for runtime, search in (("onnxruntime", _ort), ("litert", _litert)):
        starts = wanted(ctx, built, runtime)
        if not starts:
            continue
        ctx.reporter.stage(f"mixed-precision search ({runtime}): full int8 breaks the accuracy budget"
                           if not ctx.opts.mixed else f"mixed-precision search ({runtime}, --mixed)")
        try:
            found = search(ctx, built, starts[0], reference, converter)
        except Exception as exc:  # the search is an extra: its failure is said, the run goes on
            ctx.note(f"mixed-precision search ({runtime}) failed: {type(exc).__name__}: {one_line(exc, 300)}")
            continue
        out += [found] if found else []
    return out


def _ort(ctx: RunContext, built: list[BuiltVariant], base: BuiltVariant, reference: list[Any],
         converter: Any) -> BuiltVariant | None:
    return search_ort(ctx, base, reference)


def _litert(ctx: RunContext, built: list[BuiltVariant], base: BuiltVariant, reference: list[Any],
            converter: Any) -> BuiltVariant | None:
    if converter is None:
        ctx.note(f"{MIXED_LITERT} not searched: no converter process to build its candidates in")
        return None
    return search_litert(ctx, base, reference, converter)
