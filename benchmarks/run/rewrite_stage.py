"""Between building and measuring: add `onnx-rewritten` when measurement says a rewrite would pay.

With the profile's own variant list (no --variants) and `[optimization] rewrite_threshold` set, a one-shot ONNX
Runtime profile of onnx-fp32 (a few inferences at 1 thread, never timed) says what share of node time goes to the
operator types that a matching rewrite rule replaces; above the threshold the run builds onnx-rewritten and
measures it like any other variant. Listing onnx-rewritten (profile or --variants) builds it whatever the share.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from edgebench.benchmarks.measure.child_call import MeasureError
from edgebench.benchmarks.measure.op_profile_call import op_profile
from edgebench.benchmarks.run.context import BuiltVariant, RunContext
from edgebench.benchmarks.run.prior import OPTIONS_KEY
from edgebench.benchmarks.run.settings import runtime_settings
from edgebench.benchmarks.variants.converter_parent import ConverterProcess
from edgebench.benchmarks.variants.data import batch_of
from edgebench.benchmarks.variants.reference import align
from edgebench.benchmarks.variants.specs import REWRITTEN, registry
from edgebench.results.errors import one_line
from edgebench.results.selection import BASELINES

TRIGGER_RUNS = 10  # profiled inferences: shares settle within a few runs, and the run should not wait for more


def decide(found: dict[str, int], operators: list[dict[str, Any]], threshold: float) -> tuple[bool, str]:
    """(build onnx-rewritten?, the run's note saying why) from the matching rules and the op profile."""
    from edgebench.optimizers.rewrites.rules import trigger_share

    if not found:
        return False, "no rewrite rule matches onnx-fp32: onnx-rewritten not built"
    share, ops = trigger_share(found, operators)
    rules = ", ".join(f"{name} x{n}" for name, n in found.items())
    what = (f"{'/'.join(ops) or 'the matched operators'} took {share:.0%} of ONNX Runtime node time in a one-shot "
            f"profile of onnx-fp32 (rules matching: {rules}; threshold {threshold:.0%})")
    return share > threshold, f"{REWRITTEN} {'added' if share > threshold else 'not built'}: {what}"


def maybe_rewrite(ctx: RunContext, converter: ConverterProcess, built: list[BuiltVariant]) -> list[BuiltVariant]:
    """`built`, plus onnx-rewritten when the one-shot profile puts it over the profile's threshold."""
    threshold = ctx.opts.profile.optimization.get("rewrite_threshold")
    fp32 = next((bv for bv in built if bv.name == "onnx-fp32" and bv.artifact and not bv.error), None)
    if threshold is None or ctx.opts.variants is not None or fp32 is None or any(bv.name == REWRITTEN for bv in built):
        return built
    from edgebench.optimizers.rewrites.rules import matches, model_inputs

    ctx.reporter.stage("looking for rewrites (one-shot ONNX Runtime profile of onnx-fp32)")
    found = matches(fp32.path, ctx.opts.profile.optimization.get("rewrite_rules"))
    operators: list[dict[str, Any]] = []
    if found:
        order = align([s["name"] for s in ctx.io_specs], model_inputs(fp32.path))
        inputs_npz = ctx.writer.work / "rewrite-trigger.inputs.npz"
        np.savez(inputs_npz, *batch_of([ctx.data.inputs[i] for i in order], 1))
        try:
            operators = op_profile(fp32.path, 1, runtime_settings(ctx.opts.profile, fp32.runtime), inputs_npz,
                                   ctx.writer.work / "rewrite-trigger.json", ctx.opts.timeout, runs=TRIGGER_RUNS
                                   )["operators"]
        except MeasureError as exc:
            ctx.note(f"{REWRITTEN} not built: the one-shot profile of onnx-fp32 failed ({one_line(exc, 200)})")
            return built
    build, why = decide(found, operators, float(threshold))
    ctx.note(why)
    return built + _build(ctx, converter) if build else built


def _build(ctx: RunContext, converter: ConverterProcess) -> list[BuiltVariant]:
    spec = registry(ctx.opts.profile)[REWRITTEN]
    names = [s["name"] for s in ctx.io_specs]
    (b,) = converter.build_all([spec], ctx.source, ctx.opts.profile, ctx.data, names, ctx.writer.work)
    notes = ctx.doc["notes"]
    notes[:] = [converter.conversion_summary() if n.startswith("conversions: ") else n for n in notes]  # +1 pass
    if b.skipped:
        ctx.note(f"{REWRITTEN} skipped: {b.skipped}")
        return []
    ctx.doc[OPTIONS_KEY]["variants"].append(REWRITTEN)  # a resumed run plans it like a listed variant
    return [BuiltVariant(name=spec.name, runtime=spec.runtime, artifact=b.artifact, error=b.error, group=spec.group,
                         lineage=b.lineage)]


def _median(rec: dict[str, Any]) -> float | None:
    lat = rec.get("latency_ms") if rec.get("status") == "ok" else None
    return lat.get("median") if isinstance(lat, dict) else None


def speedup_notes(results: list[dict[str, Any]]) -> list[str]:
    """Per measured onnx-rewritten record: its speed-up over ONNX Runtime's fp32 baseline (and its ratio to LiteRT's)
    in the same configuration, stored in the record's `rewrites` and said in one note each."""
    from edgebench.results.record import record_key

    by_key = {record_key(r): r for r in results}
    notes = []
    for rec in results:
        rewritten_ms = _median(rec)
        if rec.get("variant") != REWRITTEN or "rewrites" not in rec or not rewritten_ms:
            continue
        key = record_key(rec)
        fp32_ms = _median(by_key.get(key._replace(variant=BASELINES["onnxruntime"]), {}))
        if not fp32_ms:
            continue
        info = rec["rewrites"]
        info["speedup_vs_onnx_fp32"] = round(fp32_ms / rewritten_ms, 3)
        rules = ", ".join(f"{e['matches']} match(es) of rule {e['rule']}" for e in info.get("rules", []) if e.get("shipped"))
        label = f" [{key.settings_label}]" if key.settings_label else ""
        note = (f"{REWRITTEN}{label}, {key.threads} thread(s): {fp32_ms / rewritten_ms:.2f}x faster than onnx-fp32 "
                f"({rewritten_ms:.3f} vs {fp32_ms:.3f} ms) after rewriting {rules}")
        litert_ms = _median(by_key.get(key._replace(variant=BASELINES["litert"], runtime="litert",
                                                settings_label=None), {}))
        if litert_ms:
            info["ratio_to_tflite_fp32"] = round(rewritten_ms / litert_ms, 3)
            note += f"; now {rewritten_ms / litert_ms:.2f}x LiteRT {BASELINES['litert']}'s latency"
        notes.append(note)
    return notes
