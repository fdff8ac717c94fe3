"""Stage 2 of a run: load-test every variant in a child process and compare its outputs with the reference."""
from __future__ import annotations

from typing import Any

from edgebench.benchmarks.build.reference import align
from edgebench.benchmarks.isolation.npzio import encode_axes, write_arrays
from edgebench.benchmarks.measure.accuracy import align_outputs, compare_outputs
from edgebench.benchmarks.measure.pyperf_run import MeasureError, describe, evaluate
from edgebench.benchmarks.run.context import BuiltVariant, RunContext
from edgebench.benchmarks.run.settings import runtime_settings
from edgebench.optimizers.errors import one_line

RUNTIME_NAMES = {"litert": "LiteRT", "onnxruntime": "ONNX Runtime"}


def check_variants(ctx: RunContext, built: list[BuiltVariant], reference: list[Any] | None,
                   reference_desc: str | None) -> None:
    """Sets each variant's accuracy (or its load-test error) and the run's reference description."""
    ctx.reporter.stage("load test and accuracy", total=len(built))
    for bv in built:
        ctx.reporter.advance(f"accuracy {bv.name}")
        if bv.error:
            continue
        try:
            _load_test(ctx, bv)
        except MeasureError as exc:
            bv.error = f"load test failed: {exc}"
        except Exception as exc:  # e.g. outputs that do not line up: this variant fails, the run goes on
            bv.error = f"load test failed: {type(exc).__name__}: {one_line(exc, 400)}"
        if reference is None and not bv.error and bv.artifact and bv.artifact.pass_name == "source":
            reference = bv.outputs
            reference_desc = f"source .{ctx.source.format} file on {RUNTIME_NAMES[bv.runtime]}"
            ctx.doc["model"]["outputs"] = bv.output_names
    ctx.doc["model"]["reference"] = reference_desc or "none (the source model could not be run)"
    for bv in built:
        if bv.error or bv.outputs is None:
            continue
        try:
            bv.accuracy = _compare(ctx, reference, bv) if reference is not None else {}
        except Exception as exc:  # outputs of another dtype or layout: no figures for this variant, no crash
            bv.accuracy = {"error": one_line(exc, 400)}
        bv.accuracy["data"] = ctx.data.kind
        bv.outputs = None


def _compare(ctx: RunContext, reference: list[Any], bv: BuiltVariant) -> dict[str, Any]:
    """Every output of the variant against the reference output of the same name (else position)."""
    names = ctx.doc["model"].get("outputs") or None
    got = list(bv.outputs or [])
    if len(got) == len(reference):
        got = [got[i] for i in align_outputs(names, bv.output_names)]
    return compare_outputs(reference, got, ctx.data.labels, names or bv.output_names)


def _load_test(ctx: RunContext, bv: BuiltVariant) -> None:
    opts = ctx.opts
    settings = runtime_settings(opts.profile, bv.runtime)
    info = describe(bv.runtime, bv.path, settings, opts.timeout, opts.profile.max_rss_mb)
    bv.input_order = align([s["name"] for s in ctx.io_specs], [s["name"] for s in info["inputs"]])
    inputs_npz = ctx.writer.work / f"{bv.name}.eval-inputs.npz"
    write_arrays(inputs_npz, [ctx.data.inputs[i] for i in bv.input_order],
                 batch_axes=encode_axes([ctx.data.batch_axes[i] for i in bv.input_order]))
    ev = evaluate(bv.runtime, bv.path, settings, inputs_npz, ctx.writer.work / f"{bv.name}.eval-outputs.npz",
                  opts.timeout, opts.profile.max_rss_mb)
    inputs_npz.unlink(missing_ok=True)
    bv.seconds_per_inference = ev.seconds_per_inference
    bv.outputs = ev.outputs  # compared once the reference is known
    bv.output_names = [s["name"] for s in ev.output_specs]
