"""Stage 2 of a run: load-test every variant in a child process and compare its outputs with the reference."""
from __future__ import annotations

from typing import Any

from edgebench.benchmarks.isolation.npzio import encode_axes, write_arrays
from edgebench.benchmarks.isolation.side_by_side import Emit, Job, side_by_side
from edgebench.benchmarks.measure.accuracy import align_outputs, compare_outputs
from edgebench.benchmarks.measure.child_call import MeasureError
from edgebench.benchmarks.measure.model_check import describe, evaluate
from edgebench.benchmarks.run import memo
from edgebench.benchmarks.run.build_stage import Reference, ReferenceJob
from edgebench.benchmarks.run.context import BuiltVariant, RunContext
from edgebench.benchmarks.run.options import item_begin, item_done
from edgebench.benchmarks.run.parity_stage import check_on_target
from edgebench.benchmarks.run.settings import runtime_settings
from edgebench.benchmarks.variants.reference import align
from edgebench.optimizers.errors import one_line
from edgebench.results.runtimes import runtime_name


def check_variants(ctx: RunContext, built: list[BuiltVariant], reference_job: ReferenceJob | None) -> list[Any] | None:
    """Sets each variant's accuracy (or its load-test error) and the run's reference description; returns the
    reference outputs (what variants made later, by the mixed-precision search, are compared with).

    The reference outputs (unless computed during the conversions already) and the load tests are child processes
    that each keep about one core busy: they run two at a time (edgebench.benchmarks.isolation.side_by_side), the
    longest first.
    """
    todo = sorted((bv for bv in built if not bv.error), key=lambda bv: not _runs_long(bv))
    ctx.reporter.stage("load test and accuracy", total=len(todo))
    hits: list[str] = []
    first = [reference_job.job] if reference_job is not None and reference_job.result is None else []
    side_by_side(first + [_load_test_job(ctx, bv, hits) for bv in todo],
                 lambda item: item_begin(ctx.reporter, item), lambda item, status: item_done(ctx.reporter, item, status))
    ctx.memo_hits += len(hits)
    reference_out = _take_reference(ctx, built, reference_job.run() if reference_job else Reference(None, None))
    if ctx.memo_hits:
        ctx.note(f"load tests of {ctx.memo_hits} variant(s) taken from the cache: the same file, runtime version, "
                 "settings, inputs and CPU gave these outputs before (EDGEBENCH_MEMO=0 recomputes them)")
    check_on_target(ctx, built, reference_out)  # arm64/mobile on another arch: the same inputs on the target's kernels
    for bv in built:
        if bv.error or bv.outputs is None:
            continue
        try:
            bv.accuracy = _compare(ctx, reference_out, bv) if reference_out is not None else {}
        except Exception as exc:  # outputs of another dtype or layout: no figures for this variant, no crash
            bv.accuracy = {"error": one_line(exc, 400)}
        bv.accuracy["data"] = ctx.data.kind
        bv.outputs = None
    return reference_out


def check_one(ctx: RunContext, bv: BuiltVariant, reference: list[Any]) -> None:
    """A variant made after the accuracy stage (a mixed-precision candidate): its load test and accuracy, as above,
    in the same child process and with the same cache."""
    try:
        _load_test(ctx, bv)
        bv.accuracy = _compare(ctx, reference, bv)
    except MeasureError as exc:
        bv.error = f"load test failed: {exc}"
    except Exception as exc:
        bv.error = f"load test failed: {type(exc).__name__}: {one_line(exc, 400)}"
    bv.accuracy["data"] = ctx.data.kind
    bv.outputs = None


def _runs_long(bv: BuiltVariant) -> bool:
    # ORT's dynamic quantization runs ConvInteger, many times slower than fp32 on a conv net: started last, its load
    # test would finish alone, leaving a core idle
    return bool(bv.artifact and bv.artifact.pass_name == "ort-dynamic-quant")


def _load_test_job(ctx: RunContext, bv: BuiltVariant, hits: list[str]) -> Job:
    def job(emit: Emit) -> None:
        emit("start", f"accuracy {bv.name}", "")
        try:
            if _load_test(ctx, bv):
                hits.append(bv.name)
        except MeasureError as exc:
            bv.error = f"load test failed: {exc}"
        except Exception as exc:  # e.g. outputs that do not line up: this variant fails, the run goes on
            bv.error = f"load test failed: {type(exc).__name__}: {one_line(exc, 400)}"
        emit("done", f"accuracy {bv.name}", "failed" if bv.error else "ok")
    return job


def _take_reference(ctx: RunContext, built: list[BuiltVariant], ref: Reference) -> list[Any] | None:
    """The outputs every variant is compared with: the framework's, else a .tflite / .onnx source's own on its
    runtime; the run's document says which."""
    if ref.names:
        ctx.doc["model"]["outputs"] = ref.names  # what each per-output accuracy figure is named after
    if ref.warning:
        ctx.warn(ref.warning)
    reference_out, reference_desc = ref.outputs, ref.description
    for bv in built:
        if reference_out is None and not bv.error and bv.artifact and bv.artifact.pass_name == "source":
            reference_out = bv.outputs
            reference_desc = f"source .{ctx.source.format} file on {runtime_name(bv.runtime)}"
            ctx.doc["model"]["outputs"] = bv.output_names
    ctx.doc["model"]["reference"] = reference_desc or "none (the source model could not be run)"
    return reference_out


def _compare(ctx: RunContext, reference: list[Any], bv: BuiltVariant) -> dict[str, Any]:
    """Every output of the variant against the reference output of the same name (else position)."""
    names = ctx.doc["model"].get("outputs") or None
    got = list(bv.outputs or [])
    if len(got) == len(reference):
        got = [got[i] for i in align_outputs(names, bv.output_names)]
    return compare_outputs(reference, got, ctx.data.labels, names or bv.output_names, ctx.budget)


def _load_test(ctx: RunContext, bv: BuiltVariant) -> bool:
    """Load the variant and run it on every evaluation input in a child process, or take the outputs of the same
    file, runtime version, settings, inputs and CPU from the cache (run/memo.py): then True."""
    opts = ctx.opts
    settings = runtime_settings(opts.profile, bv.runtime)
    assert bv.artifact is not None
    same = [bv.artifact.sha256, bv.runtime, settings, ctx.host["packages"], ctx.host["cpu_model"],
            ctx.host["kernel_flags"]]
    names_key = memo.memo_key("describe", *same)
    hit = memo.load("describe", names_key)
    names = hit[1]["inputs"] if hit else \
        [s["name"] for s in describe(bv.runtime, bv.path, settings, opts.timeout, opts.profile.max_rss_mb)["inputs"]]
    if not hit:
        memo.store("describe", names_key, [], {"inputs": names})
    bv.input_order = align([s["name"] for s in ctx.io_specs], names)
    inputs = [ctx.data.inputs[i] for i in bv.input_order]
    axes = [ctx.data.batch_axes[i] for i in bv.input_order]
    key = memo.memo_key("evaluate", *same, memo.arrays_digest(inputs), axes)
    cached = memo.load("evaluate", key)
    if cached:
        bv.outputs, bv.seconds_per_inference = cached[0], float(cached[1]["seconds_per_inference"])
        bv.output_names = list(cached[1]["output_names"])
        return True
    inputs_npz = ctx.writer.work / f"{bv.name}.eval-inputs.npz"
    write_arrays(inputs_npz, inputs, batch_axes=encode_axes(axes))
    ev = evaluate(bv.runtime, bv.path, settings, inputs_npz, ctx.writer.work / f"{bv.name}.eval-outputs.npz",
                  opts.timeout, opts.profile.max_rss_mb)
    inputs_npz.unlink(missing_ok=True)
    bv.seconds_per_inference = ev.seconds_per_inference
    bv.outputs = ev.outputs  # compared once the reference is known
    bv.output_names = [s["name"] for s in ev.output_specs]
    memo.store("evaluate", key, ev.outputs, {"seconds_per_inference": ev.seconds_per_inference,
                                             "output_names": bv.output_names})
    return False
