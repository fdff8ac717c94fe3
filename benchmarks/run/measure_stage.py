"""Stage 3 of a run: time every (variant, runtime settings, threads, batch) in fresh pyperf worker processes:
screen, then measure in full what can still win (edgebench.benchmarks.run.screening says which)."""
from __future__ import annotations

import typing
from collections.abc import Callable
from pathlib import Path

import numpy as np

from edgebench.benchmarks.measure.accuracy import budget_violations
from edgebench.benchmarks.measure.child_call import MeasureError
from edgebench.benchmarks.measure.measurer import MeasureJob
from edgebench.benchmarks.measure.op_profile_call import op_profile
from edgebench.benchmarks.measure.runtimes import effective_threading
from edgebench.benchmarks.measure.sampling import sampling_for
from edgebench.benchmarks.run.context import BuiltVariant, RunContext
from edgebench.benchmarks.run.options import item_done
from edgebench.benchmarks.run.paired_stage import paired_rounds
from edgebench.benchmarks.run.parity_stage import add_target_figures
from edgebench.benchmarks.run.screening import (
    PENDING,
    cannot_win,
    clearly_out,
    contenders,
    final_reason,
    sweep_reason,
)
from edgebench.benchmarks.run.settings import Sweep, latency_asked, runtime_settings, settings_sweep
from edgebench.benchmarks.variants.data import batch_of
from edgebench.optimizers.artifacts import size_bytes
from edgebench.optimizers.errors import one_line
from edgebench.optimizers.rewrites.apply import PASS_NAME as REWRITE_PASS
from edgebench.optimizers.rewrites.apply import report_for
from edgebench.results.record import (
    Accuracy,
    Figures,
    Latency,
    MeasuredOn,
    Record,
    RecordKey,
    new_record,
    record_key,
)
from edgebench.results.selection import always_measured_in_full, has_screening_figures


def measure_all(ctx: RunContext, built: list[BuiltVariant]) -> None:
    """Measure what is still pending; each record is written as soon as it exists, so nothing measured is lost.

    First every benchmark once: the baselines in full, the others screened (exhaustive runs: all in full). Then the
    screened records that can still win are measured in full, each replacing its screening record.
    """
    combos = [(bv, t, b, sw, i) for bv in built for i, sw in enumerate(settings_sweep(ctx.opts.profile, bv.runtime))
              for t in ctx.threads for b in ctx.batches if ctx.pending(bv.name, bv.runtime, t, b, sw[0])]
    ctx.reporter.stage(f"measuring ({ctx.opts.mode} mode)", total=len(combos))
    for bv, t, b, sw, i in combos:
        ctx.reporter.advance(item := _item(bv, t, b, sw[0]))
        record, pyperf_json = measure_one(ctx, bv, t, b, sw, _full_reason(ctx, bv, i), screen_upto=1)
        ctx.writer.add(record, pyperf_json)
        item_done(ctx.reporter, item, record["status"])
    if not exhaustive(ctx):
        _screening_rounds(ctx, built)
        _measure_contenders(ctx, built)
    if not ctx.opts.cluster:  # interleaving needs one machine: a cluster's nodes take jobs as they come
        paired_rounds(ctx, built)


def _screening_rounds(ctx: RunContext, built: list[BuiltVariant]) -> None:
    """Further rounds of one screening process per benchmark, until each has the mode's screening count."""
    want = sampling_for(ctx.opts.mode, screening=True).max_processes
    by_name: dict[tuple[str, str], BuiltVariant] = {(bv.name, bv.runtime): bv for bv in built if not bv.error}
    asked, groups = latency_asked(ctx.opts.profile), {bv.name: bv.group for bv in built}
    for n in range(2, want + 1):
        # a setting whose latency the profile does not ask for keeps one process: its memory figures are complete
        # from one, and its latency is shown as a screening whatever the count
        # nor does a record one process already shows to be out of the race (screening.clearly_out)
        records = ctx.doc["results"]
        keys = [record_key(r) for r in records if has_screening_figures(r) and r["measurement"]["processes"] < n
                and (r["variant"], r["runtime"]) in by_name and asked(r) and not clearly_out(r, records, groups, asked)]
        if not keys:
            continue
        ctx.reporter.stage(f"measuring, screening round {n}", total=len(keys))
        for key in keys:
            bv = by_name[(key.variant, key.runtime)]
            sweep = _sweep(ctx, bv, key.settings_label)
            ctx.reporter.advance(item := _item(bv, key.threads, key.batch, key.settings_label))
            record, pyperf_json = measure_one(ctx, bv, key.threads, key.batch, sweep, None, screen_upto=n, extend=True)
            ctx.writer.replace(record, pyperf_json)
            item_done(ctx.reporter, item, record["status"])


def exhaustive(ctx: RunContext) -> bool:
    return ctx.opts.exhaustive or ctx.opts.mode == "rigorous"


def _item(bv: BuiltVariant, threads: int, batch: int, label: str | None) -> str:
    return f"{bv.runtime} {bv.name} t{threads} b{batch}" + (f" {label}" if label else "")


def _sweep(ctx: RunContext, bv: BuiltVariant, label: str | None) -> Sweep:
    return next(sw for sw in settings_sweep(ctx.opts.profile, bv.runtime) if sw[0] == label)


def _full_reason(ctx: RunContext, bv: BuiltVariant, sweep_index: int) -> str | None:
    """Why this benchmark is measured in full at once, or None to screen it first."""
    if exhaustive(ctx):
        return "exhaustive run: every record in full"
    if sweep_index > 0 and ctx.opts.profile.sweep_latency == "first":
        return None
    if always_measured_in_full(bv.name, bv.runtime, bv.artifact.pass_name if bv.artifact else None):
        return "fp32 baseline: every ratio is taken against it"
    return None


def _measure_contenders(ctx: RunContext, built: list[BuiltVariant]) -> None:
    """Measure in full the screened records that can still win, until none is left; say why the others were not."""
    asked, groups = latency_asked(ctx.opts.profile), {bv.name: bv.group for bv in built}
    by_name: dict[tuple[str, str], BuiltVariant] = {(bv.name, bv.runtime): bv for bv in built if not bv.error}
    tried: set[RecordKey] = set()
    while True:
        picks = {k: why for k, why in contenders(ctx.doc["results"], groups, asked).items()
                 if k not in tried and (k.variant, k.runtime) in by_name}
        if not picks:
            break
        ctx.reporter.stage("measuring in full what can still win", total=len(picks))
        for key, why in picks.items():
            tried.add(key)
            bv = by_name[(key.variant, key.runtime)]
            sweep = _sweep(ctx, bv, key.settings_label)
            ctx.reporter.advance(item := _item(bv, key.threads, key.batch, key.settings_label))
            screened = _processes(ctx, key)
            # the screening processes count: sampled at other moments than the ones added now, they make the
            # record's processes a better sample of the machine, and they cost nothing more
            record, pyperf_json = measure_one(ctx, bv, key.threads, key.batch, sweep, why, extend=True,
                                              stop_if=_stop_rule(ctx, key, groups, asked))
            if screened and record["status"] == "ok":
                record["measurement"]["from_screening"] = screened
            ctx.writer.replace(record, pyperf_json)
            item_done(ctx.reporter, item, record["status"])
    for rec in ctx.doc["results"]:
        if has_screening_figures(rec):
            rec["measurement"]["reason"] = final_reason(rec, ctx.doc["results"], asked)
    ctx.writer.flush()


def _processes(ctx: RunContext, key: RecordKey) -> int:
    rec = next((r for r in ctx.doc["results"] if record_key(r) == key), None)
    m = rec.get("measurement") if rec and rec.get("status") == "ok" else None
    return int(m.get("processes") or 0) if m else 0


def _stop_rule(ctx: RunContext, key: RecordKey, groups: dict[str, str],
               asked: Callable[[Record], bool]) -> Callable[[Latency], str | None]:
    return lambda lat: cannot_win(key, lat, ctx.doc["results"], groups, asked)


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
    record["threading"] = effective_threading(bv.runtime, threads, settings)
    if art and art.pass_name == REWRITE_PASS and (rewrites := report_for(art.path)) is not None:
        record["rewrites"] = rewrites  # which rules fired, how many nodes each, and the proof figures
    if bv.mixed is not None:
        record["mixed_precision"] = bv.mixed
    if accuracy and "error" not in accuracy:
        violations = budget_violations(dict(accuracy), ctx.budget)
        record["accuracy_budget"] = {"ok": not violations, "violations": violations}
    add_target_figures(record, bv, ctx.budget)
    return record


def measure_one(ctx: RunContext, bv: BuiltVariant, threads: int, batch: int, sweep: Sweep, full_reason: str | None,
                screen_upto: int | None = None, extend: bool = False,
                stop_if: Callable[[Latency], str | None] | None = None) -> tuple[Record, Path | None]:
    """One benchmark: in full (adaptive, or fixed when exhaustive) when `full_reason` says why, else screened
    (up to `screen_upto` processes; `extend` adds to the screening processes already on disk)."""
    record = base_record(ctx, bv, threads, batch, sweep)
    if bv.error:
        return record, None
    opts = ctx.opts
    inputs_npz = ctx.writer.work / f"{bv.name}.b{batch}.inputs.npz"
    if not inputs_npz.exists():
        np.savez(inputs_npz, *batch_of([ctx.data.inputs[i] for i in bv.input_order], batch,
                                       [ctx.data.batch_axes[i] for i in bv.input_order]))
    sampling = sampling_for(opts.mode, screening=full_reason is None, exhaustive=exhaustive(ctx), upto=screen_upto)
    try:
        figures, pyperf_json = ctx.measurer.measure(MeasureJob(
            record["benchmark"], bv.runtime, bv.path, threads, sweep[1], inputs_npz, ctx.writer.work, sampling,
            bv.seconds_per_inference * batch, opts.timeout, opts.profile.max_rss_mb, extend, opts.profile.target_arch,
            None if exhaustive(ctx) else stop_if))
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
    asked = latency_asked(ctx.opts.profile)(record)
    record["measurement"]["reason"] = record["measurement"].get("reason") or full_reason or \
        (PENDING if asked else sweep_reason(sweep[0]))
    return record, pyperf_json


def op_profiles(ctx: RunContext, built: list[BuiltVariant], threads: int) -> None:
    """ONNX Runtime's per-node profile of each ONNX variant, kept in DIR/op_profile/ and summarised in results.json."""
    onnx_variants = [bv for bv in built if bv.runtime == "onnxruntime" and not bv.error]
    ctx.reporter.stage(f"operator profiles (ONNX Runtime, {threads} thread)", total=len(onnx_variants))
    profiles = ctx.doc.setdefault("op_profiles", {})
    for bv in onnx_variants:
        ctx.reporter.advance(bv.name)
        inputs_npz = ctx.writer.work / f"{bv.name}.b1.inputs.npz"
        np.savez(inputs_npz, *batch_of([ctx.data.inputs[i] for i in bv.input_order], 1,
                                       [ctx.data.batch_axes[i] for i in bv.input_order]))
        try:
            summary = op_profile(bv.path, threads, runtime_settings(ctx.opts.profile, bv.runtime), inputs_npz,
                                 ctx.opts.out / "op_profile" / f"{bv.name}-t{threads}.json", ctx.opts.timeout)
            profiles[bv.name] = dict(summary, threads=threads, file=f"op_profile/{bv.name}-t{threads}.json")
        except MeasureError as exc:
            profiles[bv.name] = {"error": one_line(exc, 400), "threads": threads}
    ctx.writer.flush()
