"""Stage 3 of a run: time every (variant, runtime settings, threads, batch) in fresh pyperf worker processes."""
from __future__ import annotations

import typing
from pathlib import Path

import numpy as np

from edgebench.benchmarks.build.data import batch_of
from edgebench.benchmarks.measure.accuracy import budget_violations
from edgebench.benchmarks.measure.pyperf_run import MeasureError, op_profile, run_pyperf
from edgebench.benchmarks.run.context import BuiltVariant, RunContext
from edgebench.benchmarks.run.options import item_done
from edgebench.benchmarks.run.settings import Sweep, runtime_settings, settings_sweep
from edgebench.optimizers.artifacts import size_bytes
from edgebench.optimizers.errors import one_line
from edgebench.results.record import Accuracy, Figures, MeasuredOn, Record, new_record


def measure_all(ctx: RunContext, built: list[BuiltVariant]) -> None:
    """Measure what is still pending; each record is written as soon as it exists, so nothing measured is lost."""
    combos = [(bv, t, b, sw) for bv in built for sw in settings_sweep(ctx.opts.profile, bv.runtime)
              for t in ctx.threads for b in ctx.batches if ctx.pending(bv.name, bv.runtime, t, b, sw[0])]
    ctx.reporter.stage(f"measuring ({ctx.opts.mode} mode)", total=len(combos))
    for bv, t, b, sw in combos:
        ctx.reporter.advance(item := f"{bv.runtime} {bv.name} t{t} b{b}" + (f" {sw[0]}" if sw[0] else ""))
        record, pyperf_json = measure_one(ctx, bv, t, b, sw)
        ctx.writer.add(record, pyperf_json)
        item_done(ctx.reporter, item, record["status"])


def _measured_on(ctx: RunContext) -> MeasuredOn:
    host = ctx.host
    return MeasuredOn(host_id=host["host_id"], hostname=host["hostname"], arch=host["arch"],
                      cpu_model=host["cpu_model"], target_arch=ctx.opts.profile.target_arch,
                      host_is_target=ctx.host_is_target)


def base_record(ctx: RunContext, bv: BuiltVariant, threads: int, batch: int, sweep: Sweep) -> Record:
    """The record before measuring: what was built, how accurate it is, and where it will be measured."""
    label, settings = sweep
    art = bv.artifact
    accuracy = Accuracy(**bv.accuracy)  # type: ignore[typeddict-item]  # compare_outputs returns these keys
    record = new_record(model=ctx.source.name, runtime=bv.runtime, variant=bv.name, threads=threads, batch=batch,
                        settings_label=label, runtime_settings=settings, mode=ctx.opts.mode,
                        measured_on=_measured_on(ctx), error=bv.error,
                        model_bytes=size_bytes(art.path) if art else None, accuracy=accuracy,
                        artifact=dict(art.to_dict(), lineage=bv.lineage) if art else None,
                        pass_notes=list(art.notes) if art else [])
    if accuracy and "error" not in accuracy:
        profile = ctx.opts.profile
        violations = budget_violations(dict(accuracy), profile.min_top1_agreement, profile.min_cosine)
        record["accuracy_budget"] = {"ok": not violations, "violations": violations}
    return record


def measure_one(ctx: RunContext, bv: BuiltVariant, threads: int, batch: int, sweep: Sweep) -> tuple[Record, Path | None]:
    record = base_record(ctx, bv, threads, batch, sweep)
    if bv.error:
        return record, None
    opts = ctx.opts
    inputs_npz = ctx.writer.work / f"{bv.name}.b{batch}.inputs.npz"
    if not inputs_npz.exists():
        np.savez(inputs_npz, *batch_of([ctx.data.inputs[i] for i in bv.input_order], batch))
    try:
        figures, pyperf_json = run_pyperf(record["benchmark"], bv.runtime, bv.path, threads, sweep[1], inputs_npz,
                                          ctx.writer.work, opts.mode, bv.seconds_per_inference * batch, opts.timeout,
                                          opts.profile.max_rss_mb)
    except MeasureError as exc:
        record["error"] = one_line(exc, 400)
        return record, None
    except Exception as exc:  # e.g. unreadable pyperf output: a failed record, never the end of the run
        record["error"] = f"benchmark failed: {type(exc).__name__}: {one_line(exc, 400)}"
        return record, None
    record.update(typing.cast(Figures, figures))
    record["status"] = "ok"
    record["error"] = None
    median = figures["latency_ms"]["median"]
    record["throughput_ips"] = batch * 1000.0 / median if median else None
    return record, pyperf_json


def op_profiles(ctx: RunContext, built: list[BuiltVariant], threads: int) -> None:
    """ONNX Runtime's per-node profile of each ONNX variant, kept in DIR/op_profile/ and summarised in results.json."""
    onnx_variants = [bv for bv in built if bv.runtime == "onnxruntime" and not bv.error]
    ctx.reporter.stage(f"operator profiles (ONNX Runtime, {threads} thread)", total=len(onnx_variants))
    profiles = ctx.doc.setdefault("op_profiles", {})
    for bv in onnx_variants:
        ctx.reporter.advance(bv.name)
        inputs_npz = ctx.writer.work / f"{bv.name}.b1.inputs.npz"
        np.savez(inputs_npz, *batch_of([ctx.data.inputs[i] for i in bv.input_order], 1))
        try:
            summary = op_profile(bv.path, threads, runtime_settings(ctx.opts.profile, bv.runtime), inputs_npz,
                                 ctx.opts.out / "op_profile" / f"{bv.name}-t{threads}.json", ctx.opts.timeout)
            profiles[bv.name] = dict(summary, threads=threads, file=f"op_profile/{bv.name}-t{threads}.json")
        except MeasureError as exc:
            profiles[bv.name] = {"error": one_line(exc, 400), "threads": threads}
    ctx.writer.flush()
