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

import time
from collections.abc import Callable
from typing import Any

from edgebench.benchmarks.measure.accuracy import budget_violations
from edgebench.benchmarks.measure.output_kinds import JUDGED_BY
from edgebench.benchmarks.run.accuracy_stage import check_one
from edgebench.benchmarks.run.context import BuiltVariant, RunContext
from edgebench.benchmarks.run.mixed_search import SearchResult, Step
from edgebench.benchmarks.run.settings import settings_sweep
from edgebench.benchmarks.variants.specs import QUANTIZED, STATIC_FAMILY
from edgebench.optimizers.artifacts import Artifact
from edgebench.optimizers.errors import one_line

MIXED_ORT = f"{STATIC_FAMILY}-mixed"
MIXED_LITERT = "tflite-int8-mixed"
DEFAULT_SEARCH_S = 600.0


def is_full_int8(name: str, runtime: str) -> bool:
    """The variants whose failure to keep the budget starts a search: static int8 (ORT), full-integer (LiteRT)."""
    if runtime == "onnxruntime":
        return name.startswith(STATIC_FAMILY) and name != MIXED_ORT
    return name in ("tflite-int8", "tflite-int8-io")


def _over_budget(ctx: RunContext, bv: BuiltVariant) -> bool:
    return "error" in bv.accuracy or bool(budget_violations(bv.accuracy, ctx.budget))


def wanted(ctx: RunContext, built: list[BuiltVariant], runtime: str) -> list[BuiltVariant]:
    """The full-int8 variants a search would start from (fastest at the load test first), or [] for no search: none
    was built and checked, or one of them keeps the budget and `--mixed` was not given."""
    int8 = [bv for bv in built if bv.runtime == runtime and is_full_int8(bv.name, bv.runtime) and not bv.error
            and bv.accuracy and set(bv.accuracy) != {"data"}]
    if not int8 or not (ctx.opts.mixed or all(_over_budget(ctx, bv) for bv in int8)):
        return []
    return sorted(int8, key=lambda bv: bv.seconds_per_inference)


def figures(accuracy: dict[str, Any]) -> dict[str, float]:
    """Per output, the figure its kind is judged by (what a step's accuracy is shown as)."""
    out = {}
    for o in accuracy.get("outputs") or [accuracy]:
        metric = JUDGED_BY.get(str(o.get("kind")), "cosine")
        if isinstance(o.get(metric), (int, float)):
            out[f"{o.get('name', 'output')} {metric}"] = round(float(o[metric]), 5)
    return out


def check_candidate(ctx: RunContext, reference: list[Any], name: str, runtime: str, art: Artifact,
                    lineage: list[dict[str, Any]]) -> tuple[BuiltVariant, Step]:
    """Load-test, compare and screen one candidate once (batch 1, the run's first thread count)."""
    from edgebench.benchmarks.run.measure_stage import measure_one

    bv = BuiltVariant(name=name, runtime=runtime, artifact=art, group=QUANTIZED, lineage=lineage)
    check_one(ctx, bv, reference)
    step = Step(0, [], False, payload=bv)
    if bv.error:
        step.error = bv.error
        return bv, step
    step.violations = budget_violations(bv.accuracy, ctx.budget)
    step.within_budget, step.figures = not step.violations, figures(bv.accuracy)
    record, _ = measure_one(ctx, bv, ctx.threads[0], 1, settings_sweep(ctx.opts.profile, runtime)[0], None,
                            screen_upto=1)
    lat = record.get("latency_ms") if record.get("status") == "ok" else None
    step.latency_ms = round(float(lat["median"]), 4) if lat and lat.get("median") else None
    return bv, step


def timed(attempt: Callable[[int], Step]) -> Callable[[int], Step]:
    def run(k: int) -> Step:
        t0 = time.monotonic()
        step = attempt(k)
        step.size, step.seconds = k, time.monotonic() - t0
        return step
    return run


def finish(ctx: RunContext, runtime: str, name: str, result: SearchResult, info: dict[str, Any],
           budget_s: float) -> BuiltVariant | None:
    """The search's record (results.json `mixed_search`), its notes, and the variant it found (or None)."""
    steps = [s.to_dict() for s in result.steps]
    summary = dict(info, steps=steps, seconds=round(result.seconds + info.pop("setup_s", 0.0), 2),
                   out_of_time=result.out_of_time, budget_s=budget_s,
                   layers_in_float=result.best.layers if result.best else None)
    ctx.doc.setdefault("mixed_search", {})[runtime] = summary
    best = result.best
    if result.out_of_time:
        ctx.note(f"{name}: the search ran out of its time budget ([quantization] mixed_search_s = {budget_s:g} s) "
                 f"after {len(steps)} step(s); " + (f"best so far keeps {best.size} layer(s) in float"
                                                    if best else "no candidate within the budget so far"))
    if best is None:
        ctx.note(f"{name} not made: no candidate of the search ({len(steps)} step(s), up to "
                 f"{max((s.size for s in result.steps), default=0)} layer(s) in float) kept the accuracy budget")
        return None
    bv: BuiltVariant = best.payload
    bv.name = name
    bv.mixed = summary
    ctx.note(f"{name}: {best.size} of {info['ranked_layers']} ranked layer(s) kept in float "
             f"({', '.join(best.layers[:5])}{', ...' if best.size > 5 else ''}) to keep the accuracy budget; "
             f"search of {len(steps)} step(s) took {summary['seconds']:.1f} s")
    return bv


def search_time(ctx: RunContext) -> float:
    return float(ctx.opts.profile.quantization.get("mixed_search_s", DEFAULT_SEARCH_S))


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
    from edgebench.benchmarks.run.mixed_ort import search_ort
    return search_ort(ctx, base, reference)


def _litert(ctx: RunContext, built: list[BuiltVariant], base: BuiltVariant, reference: list[Any],
            converter: Any) -> BuiltVariant | None:
    ctx.note(f"{MIXED_LITERT} not searched: the LiteRT mixed-precision search is not implemented yet")
    return None
