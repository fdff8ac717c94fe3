"""The steps of a mixed-precision search, shared by the runtimes' searches: check and screen a candidate, and turn
the search's result into the run's record, notes and variant (edgebench.benchmarks.run.mixed_stage says when)."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from edgebench.benchmarks.measure.accuracy import budget_violations
from edgebench.benchmarks.measure.output_kinds import JUDGED_BY
from edgebench.benchmarks.run.accuracy_stage import check_one
from edgebench.benchmarks.run.context import BuiltVariant, RunContext
from edgebench.benchmarks.run.mixed_search import SearchResult, Step, search_sizes
from edgebench.benchmarks.run.settings import settings_sweep
from edgebench.benchmarks.variants.specs import QUANTIZED
from edgebench.optimizers.artifacts import Artifact
from edgebench.results.record import Runtime

DEFAULT_SEARCH_S = 600.0


def figures(accuracy: dict[str, Any]) -> dict[str, float]:
    """Per output, the figure its kind is judged by (what a step's accuracy is shown as)."""
    out = {}
    for o in accuracy.get("outputs") or [accuracy]:
        metric = JUDGED_BY.get(str(o.get("kind")), "cosine")
        if isinstance(o.get(metric), (int, float)):
            out[f"{o.get('name', 'output')} {metric}"] = round(float(o[metric]), 5)
    return out


def check_candidate(ctx: RunContext, reference: list[Any], name: str, runtime: Runtime, art: Artifact,
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


def run_search(ctx: RunContext, stage: str, n: int, attempt: Callable[[int], Step],
               started: float) -> tuple[SearchResult, float, float]:
    """Announce the search, then grow and bisect over `n` ranked layers within what is left of the profile's time
    budget once the ranking (begun at `started`) is done: (result, budget seconds, ranking seconds)."""
    ctx.reporter.stage(stage)
    budget_s = search_time(ctx)
    setup_s = time.monotonic() - started
    return search_sizes(n, timed(attempt), max(0.0, budget_s - setup_s)), budget_s, setup_s
