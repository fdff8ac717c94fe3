"""`bench run`: source -> variants -> load test and accuracy -> pyperf measurements -> results on disk.

Every record is written to results.json and pyperf.json as soon as it exists, so nothing measured is lost.
"""
from __future__ import annotations

import datetime as dt
import os
from typing import Any

from edgebench.benchmarks.measure.environment import busy_warning, describe_host
from edgebench.benchmarks.measure.measurer import LocalMeasurer, Measurer
from edgebench.benchmarks.run import resume
from edgebench.benchmarks.run.accuracy_stage import check_variants
from edgebench.benchmarks.run.build_stage import build_variants, model_specs, reference_job, still_needed
from edgebench.benchmarks.run.candidates import mark_recommended
from edgebench.benchmarks.run.context import RunContext
from edgebench.benchmarks.run.inputs import model_inputs, resolve_source
from edgebench.benchmarks.run.measure_stage import measure_all, op_profiles
from edgebench.benchmarks.run.mixed_stage import mixed_variants
from edgebench.benchmarks.run.options import Reporter, RunOptions, SilentReporter
from edgebench.benchmarks.run.prior import OPTIONS_KEY
from edgebench.benchmarks.run.rewrite_stage import maybe_rewrite, speedup_notes
from edgebench.benchmarks.run.writer import RunWriter
from edgebench.benchmarks.variants.converter_parent import ConverterProcess
from edgebench.benchmarks.variants.data import RANDOM_WARNING, DataSet
from edgebench.benchmarks.variants.shapes import override_batches
from edgebench.benchmarks.variants.sources import ModelSource
from edgebench.benchmarks.variants.specs import plan_variants
from edgebench.results import __version__
from edgebench.results.contract import SCHEMA_VERSION
from edgebench.results.errors import UserError


def run_benchmarks(opts: RunOptions, reporter: Reporter | None = None) -> dict[str, Any]:
    """Run the whole matrix of `opts` and return results.json as written."""
    reporter = reporter or SilentReporter()
    if opts.mode not in ("fast", "default", "rigorous"):
        raise UserError(f"unknown mode {opts.mode!r}")
    variant_specs = plan_variants(opts.variants, opts.profile)
    measurer = _measurer(opts, reporter)  # first: an unreachable cluster or a refused token ends the run at once
    host = describe_host()
    threads = opts.threads or opts.profile.thread_counts(host["usable_cores"])
    source, kind = resolve_source(opts.model)
    reporter.stage(f"reading {source.name} ({source.format})")
    os.environ[resume.RUN_ID_ENV] = opts.run_id = opts.run_id or resume.new_run_id()
    converter = ConverterProcess(opts.timeout)  # TensorFlow runs there, never in this process
    handle, io_specs = model_specs(source, converter, opts.timeout, host)
    helper = ConverterProcess(opts.timeout)  # the second runtime's conversions, beside the first's
    if converter.running:  # TensorFlow read this model for the first time: conversions are ahead, tf2onnx among them
        helper.warm_up()
    io_specs, data = model_inputs(source, kind, io_specs, opts)
    batches = opts.batches or override_batches(io_specs, opts.input_shapes) or list(opts.profile.batch)
    writer = RunWriter(opts.out, _new_doc(opts, source, kind, io_specs, data, host))
    ctx = RunContext(opts, reporter, source, io_specs, data, host, threads, batches, writer, measurer=measurer)
    _opening_messages(ctx)
    writer.doc[OPTIONS_KEY] = resume.run_options_record(opts, [v.name for v in variant_specs], threads, batches)
    resume.seed(opts, writer.doc, writer)
    writer.flush()  # from here on the directory can be resumed, even before the first measurement

    reference = reference_job(ctx, converter, handle)
    built = maybe_rewrite(ctx, converter, build_variants(ctx, converter, still_needed(ctx, variant_specs), helper,
                                                         reference))
    reference_out = check_variants(ctx, built, reference if built else None)
    built = mixed_variants(ctx, built, reference_out, converter)
    converter.close()  # TensorFlow's memory is given back before anything is measured
    if opts.op_profile:
        op_profiles(ctx, built, threads[0])
    try:
        measure_all(ctx, built)
    finally:
        ctx.measurer.close()
    ctx.doc["notes"].extend(speedup_notes(ctx.doc["results"]))
    ctx.doc["notes"].extend(mark_recommended(ctx.doc["results"], {bv.name: bv.group for bv in built}))
    writer.flush()
    if any(r.get("runtime") == "onnxruntime" for r in ctx.doc["results"]):
        from edgebench.benchmarks.card.runcard import write_run_card
        card_note = write_run_card(opts.out)  # card.json beside results.json: the report shows it
        if card_note:
            ctx.note(card_note)
            writer.flush()
    return ctx.doc


def _measurer(opts: RunOptions, reporter: Reporter) -> Measurer:
    """Where the benchmarks are timed: here, or on the node of a Ray cluster that offers the profile."""
    if not opts.cluster:
        return LocalMeasurer()
    from edgebench.benchmarks.fleet.measurer import connect  # Ray is imported only for a cluster run
    cluster = connect(opts.cluster, opts.profile)
    reporter.note(cluster.where)
    return cluster


def _new_doc(opts: RunOptions, source: ModelSource, kind: str, io_specs: list[dict[str, Any]], data: DataSet,
             host: dict[str, Any]) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "tool": {"name": "edgebench", "version": __version__},
        "mode": opts.mode,
        "objective": opts.profile.objective,  # what the decision minimises (median, or p99 for a latency SLO)
        "host": host,
        "profile": opts.profile.to_dict(),
        "model": dict(source.to_dict(), kind=kind, inputs=io_specs),
        "data": data.to_dict(),
        "notes": [],
        "warnings": [],
        "results": [],
    }
    if kind == "default":
        from edgebench.benchmarks.variants.default_model import DESCRIPTION
        doc["model"]["description"] = DESCRIPTION
    return doc


def _opening_messages(ctx: RunContext) -> None:
    """What the user must know before reading any figure: host vs target, a busy machine, random data."""
    profile, host = ctx.opts.profile, ctx.host
    if not ctx.host_is_target and not ctx.opts.cluster:  # on a cluster, each record says where it was timed
        ctx.warn(f"host is {host['arch']} but profile {profile.name} targets {profile.target_arch}: every timing is "
                 "a HOST timing, not the target's; accuracy figures still hold for the model files")
    busy = busy_warning(host, host.get("cpu_busy_at_start"))
    if busy:
        ctx.warn(busy)
    if ctx.data.kind == "random":
        ctx.warn(RANDOM_WARNING)
    if ctx.data.details.get("preprocessing"):  # images the run prepared itself: say from where and how
        ctx.note(f"data: {ctx.data.description}")
    where = getattr(ctx.measurer, "where", None)
    if where:
        ctx.note(where)
    if ctx.source.format == "onnx":
        ctx.note("ONNX source: its LiteRT variants are converted with onnx2tf; every variant's accuracy is against "
                 "the source file on ONNX Runtime")
