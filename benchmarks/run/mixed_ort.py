"""ONNX Runtime's mixed-precision search: rank the nodes with qdq_loss_debug, keep the first k in float.

The search starts from the fastest full-int8 static candidate (at the load test) and keeps its options (format,
types, per-channel, calibration): only nodes_to_exclude changes, and the calibration ranges are the ones that
candidate computed. The ranking needs a QDQ model; for a QOperator candidate one is made with the same options.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from edgebench.benchmarks.measure.accuracy import normalize_name
from edgebench.benchmarks.run.accuracy_stage import check_one
from edgebench.benchmarks.run.context import BuiltVariant, RunContext
from edgebench.benchmarks.run.mixed_names import MIXED_ORT
from edgebench.benchmarks.run.mixed_rescore import Probe, candidates, failing, rescore
from edgebench.benchmarks.run.mixed_search import Step
from edgebench.benchmarks.run.mixed_steps import check_candidate, figures, finish, run_search
from edgebench.benchmarks.variants.specs import QUANTIZED, STATIC_FAMILY, BuildContext
from edgebench.optimizers.artifacts import Artifact
from edgebench.optimizers.onnx_quant import StaticOptions


def _options(ctx: RunContext, name: str) -> StaticOptions:
    """The static-quantization options of candidate `name` (onnx-static-int8[-NAME]) in the profile."""
    from edgebench.hardware_profiles.optimizer_settings import static_candidates

    for cand in static_candidates(ctx.opts.profile.quantization) or [{}]:
        cand_name = cand.pop("name", None)
        cand.pop("source", None)
        if (f"{STATIC_FAMILY}-{cand_name}" if cand_name else STATIC_FAMILY) == name:
            return StaticOptions(**cand)
    raise ValueError(f"{name} is not a static candidate of profile {ctx.opts.profile.name}")


def _artifact(entry: dict[str, Any]) -> Artifact:
    return Artifact(entry["path"], entry["sha256"], entry.get("parent"), entry["pass"], entry.get("settings") or {},
                    list(entry.get("notes") or []))


def search_ort(ctx: RunContext, base: BuiltVariant, reference: list[Any]) -> BuiltVariant | None:
    from edgebench.benchmarks.variants.shapes import onnx_input_names
    from edgebench.optimizers.onnx_mixed import layer_sensitivity, static_quantize_excluding
    from edgebench.optimizers.onnx_quant import static_quantize

    t0 = time.monotonic()
    assert base.artifact is not None and len(base.lineage) >= 2
    options = _options(ctx, base.name)
    float_model = _artifact(base.lineage[-2])  # what the candidate quantized: the pre-processed fp32 model
    names = [s["name"] for s in ctx.io_specs]
    calibration = BuildContext(ctx.source, ctx.opts.profile, ctx.data, input_names=names).calibration(
        onnx_input_names(float_model.path))
    qdq = base.artifact if options.format == "QDQ" else static_quantize(float_model, calibration,
                                                                          replace(options, format="QDQ"))
    ranked = layer_sensitivity(float_model, qdq, calibration)
    lineage = base.lineage[:-1]

    def build(exclude: list[str]) -> Artifact:
        return static_quantize_excluding(float_model, calibration, options, exclude)

    order, groups, probes = _rescored(ctx, base, reference, ranked, float_model, build, lineage)

    def attempt(k: int) -> Step:
        exclude = list(dict.fromkeys(n for layer in order[:k] for n in groups[layer]))
        art = build(exclude)
        _, step = check_candidate(ctx, reference, f"{MIXED_ORT}-k{k}", "onnxruntime", art,
                                  lineage + [art.to_dict()])
        step.layers = exclude
        return step

    result, budget_s, setup_s = run_search(ctx, f"mixed-precision search (ONNX Runtime, from {base.name}): {len(order)} ranked node(s)", len(order), attempt, t0)
    info = {"runtime": "onnxruntime", "from": base.name, "sensitivity": "onnxruntime.quantization.qdq_loss_debug "
            "(SQNR lost per node: its inputs before QDQ vs its outputs after)", "ranked_layers": len(order),
            "ranking": [layer.to_dict() for layer in ranked[:20]], "setup_s": setup_s,
            "rescored": [p.to_dict() for p in probes], "order": order[:20]}
    return finish(ctx, "onnxruntime", MIXED_ORT, result, info, budget_s)


def _rescored(ctx: RunContext, base: BuiltVariant, reference: list[Any], ranked: list[Any], float_model: Artifact,
              build: Callable[[list[str]], Artifact], lineage: list[dict[str, Any]]
              ) -> tuple[list[str], dict[str, list[str]], list[Probe]]:
    """The ranking re-ordered by the budget metric of a few one-layer probes (mixed_rescore)."""
    from edgebench.optimizers.onnx_mixed import layer_links

    order = [layer.node for layer in ranked]
    groups = {layer.node: list(layer.nodes) or [layer.node] for layer in ranked}
    fail = failing(base.accuracy, ctx.budget)
    if not fail:
        return order, groups, []
    successors, upstream = layer_links(float_model, ranked)
    names = {normalize_name(o) for o, _, _ in fail.values()}
    outputs = [o for o in upstream if normalize_name(o) in names] or list(upstream)

    def evaluate(exclude: list[str]) -> dict[str, float]:
        art = build(exclude)
        bv = BuiltVariant(name=f"{MIXED_ORT}-probe", runtime="onnxruntime", artifact=art, group=QUANTIZED,
                          lineage=lineage + [art.to_dict()])
        check_one(ctx, bv, reference)
        return figures(bv.accuracy) if not bv.error else {}

    ctx.reporter.stage("mixed-precision search (ONNX Runtime): probing the head of the ranking by the budget metric")
    return rescore(order, groups, successors, candidates(order, upstream, outputs), fail, figures(base.accuracy),
                   evaluate)
