"""`bench run`: source -> variants -> load test and accuracy -> pyperf measurements -> results on disk.

Every record is written to results.json and pyperf.json as soon as it exists, so nothing measured is lost.
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edgebench.benchmarks.build.convertproc import ConverterProcess, source_specs
from edgebench.benchmarks.build.data import (
    RANDOM_WARNING,
    DataSet,
    batch_of,
    embedded_data,
    load_user_data,
    random_data,
)
from edgebench.benchmarks.build.reference import align
from edgebench.benchmarks.build.sources import ModelSource, detect_source
from edgebench.benchmarks.build.variants import plan_variants as plan_specs
from edgebench.benchmarks.measure.accuracy import budget_violations, compare_outputs
from edgebench.benchmarks.measure.environment import busy_warning, describe_host
from edgebench.benchmarks.measure.pyperf_run import MeasureError, describe, evaluate, run_pyperf
from edgebench.benchmarks.run import resume
from edgebench.benchmarks.run.options import Reporter, RunOptions, SilentReporter, item_done
from edgebench.benchmarks.run.prior import OPTIONS_KEY
from edgebench.benchmarks.run.writer import RunWriter
from edgebench.hardware_profiles import Profile
from edgebench.optimizers.artifacts import Artifact, size_bytes
from edgebench.optimizers.errors import one_line
from edgebench.results import __version__
from edgebench.results.contract import SCHEMA_VERSION
from edgebench.results.errors import UserError


@dataclass
class BuiltVariant:
    name: str
    runtime: str
    artifact: Artifact | None = None
    error: str | None = None
    accuracy: dict[str, Any] = field(default_factory=dict)
    seconds_per_inference: float = 1e-3
    input_order: list[int] = field(default_factory=list)
    group: str = "baseline"
    lineage: list[dict[str, Any]] = field(default_factory=list)


def _one_line(exc: BaseException) -> str:
    return one_line(exc, 400)


def _runtime_settings(profile: Profile, runtime: str) -> dict[str, Any]:
    """The runtime's settings with any sweep collapsed to its first value (used for load tests and accuracy)."""
    return settings_sweep(profile, runtime)[0][1]


def settings_sweep(profile: Profile, runtime: str) -> list[tuple[str | None, dict[str, Any]]]:
    """(label, settings) per runtime configuration to measure: a profile may list enable_cpu_mem_arena = [true, false]."""
    base = dict(profile.litert if runtime == "litert" else profile.onnxruntime)
    arena = base.get("enable_cpu_mem_arena", True)
    if runtime == "onnxruntime" and isinstance(arena, list):
        return [(f"arena-{'on' if a else 'off'}", dict(base, enable_cpu_mem_arena=bool(a))) for a in arena]
    return [(None, base)]


def resolve_source(model: str | None) -> tuple[ModelSource, str]:
    if model is None:
        from edgebench.benchmarks.build.default_model import NAME, ensure_default_model
        path = ensure_default_model()
        src = detect_source(path)
        return ModelSource(src.path, src.format, NAME, src.sha256, src.size_bytes), "default"
    return detect_source(model), "user"


def dataset_for(data: str | None, kind: str, specs: list[dict[str, Any]]) -> DataSet:
    """The user's --data, else the embedded digits for the default model, else random inputs (flagged)."""
    if data:
        return load_user_data(data, specs)
    if kind == "default":
        return embedded_data()
    return random_data(specs)


def run_benchmarks(opts: RunOptions, reporter: Reporter | None = None) -> dict[str, Any]:
    reporter = reporter or SilentReporter()
    if opts.mode not in ("fast", "default", "rigorous"):
        raise UserError(f"unknown mode {opts.mode!r}")
    variant_specs = plan_specs(opts.variants, opts.profile)
    host = describe_host()
    threads = opts.threads or opts.profile.thread_counts(host["usable_cores"])
    batches = opts.batches or list(opts.profile.batch)
    source, kind = resolve_source(opts.model)
    reporter.stage(f"reading {source.name} ({source.format})")
    os.environ[resume.RUN_ID_ENV] = opts.run_id = opts.run_id or resume.new_run_id()
    converter = ConverterProcess(opts.timeout)  # TensorFlow runs there, never in this process
    handle, specs = source_specs(source, converter, opts.timeout)
    data = dataset_for(opts.data, kind, specs)

    host_is_target = host["arch"] == opts.profile.target_arch
    warnings: list[str] = []
    notes: list[str] = []
    if not host_is_target:
        warnings.append(f"host is {host['arch']} but profile {opts.profile.name} targets {opts.profile.target_arch}: "
                        f"every timing is a HOST timing, not the target's; accuracy figures still hold for the model files")
    busy = busy_warning(host, host.get("cpu_busy_at_start"))
    if busy:
        warnings.append(busy)
    if data.kind == "random":
        warnings.append(RANDOM_WARNING)
    if source.format == "onnx":
        notes.append("ONNX source: measured on ONNX Runtime only; no TFLite variant is made from ONNX yet")

    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "tool": {"name": "edgebench", "version": __version__},
        "mode": opts.mode,
        "host": host,
        "profile": opts.profile.to_dict(),
        "model": dict(source.to_dict(), kind=kind, inputs=specs),
        "data": data.to_dict(),
        "notes": notes,
        "warnings": warnings,
        "results": [],
    }
    if kind == "default":
        from edgebench.benchmarks.build.default_model import DESCRIPTION
        doc["model"]["description"] = DESCRIPTION
    writer = RunWriter(opts.out, doc)
    doc[OPTIONS_KEY] = resume.run_options_record(opts, [v.name for v in variant_specs], threads, batches)
    resume.seed(opts, doc, writer)
    writer.flush()  # from here on the directory can be resumed, even before the first measurement

    def pending(name: str, runtime: str, t: int, b: int, label: str | None) -> bool:
        return opts.resume is None or opts.resume.pending(name, runtime, t, b, label)

    # 1. build the variants (in the converter child: a crashing converter costs its own variant only)
    variant_specs = [s for s in variant_specs if any(pending(s.name, s.runtime, t, b, sw[0]) for t in threads
                                                     for b in batches for sw in settings_sweep(opts.profile, s.runtime))]
    reporter.stage("converting", total=len(variant_specs))
    built: list[BuiltVariant] = []
    for b in converter.build_all(variant_specs, source, opts.profile, data, [s["name"] for s in specs], writer.work,
                                 lambda name: reporter.advance(f"building {name}"),
                                 lambda name, status: item_done(reporter, f"building {name}", status)):
        if b.skipped:
            notes.append(f"{b.spec.name} skipped: {b.skipped}")
            continue
        built.append(BuiltVariant(name=b.spec.name, runtime=b.spec.runtime, artifact=b.artifact, error=b.error,
                                  group=b.spec.group, lineage=b.lineage))
    notes.append(converter.conversion_summary())
    from edgebench.optimizers.calibration import RANDOM_CALIBRATION_NOTE
    if any(RANDOM_CALIBRATION_NOTE in bv.artifact.notes for bv in built if bv.artifact):
        warnings.append(RANDOM_CALIBRATION_NOTE)

    # 2. reference outputs, then load-test + accuracy of every variant in a child process
    reference, reference_desc = None, None
    if handle and built:
        reporter.stage(f"reference outputs ({source.format}) on {len(data.inputs[0])} samples")
        framework = 'Keras' if source.format == 'keras' else 'TensorFlow'
        try:
            reference = converter.reference(source, specs, data.inputs, writer.work)
            reference_desc = f"source model in {framework}"
        except Exception as exc:  # the variants are still measured, without an accuracy comparison
            reference_desc = f"none (the source model failed in {framework}: {_one_line(exc)})"
            warnings.append(f"no accuracy figures: {reference_desc}")
    converter.close()  # TensorFlow's memory is given back before anything is measured
    ref_names = [s["name"] for s in specs]
    reporter.stage("load test and accuracy", total=len(built))
    for bv in built:
        reporter.advance(f"accuracy {bv.name}")
        if bv.error:
            continue
        try:
            settings = _runtime_settings(opts.profile, bv.runtime)
            info = describe(bv.runtime, bv.artifact.path, settings, opts.timeout, opts.profile.max_rss_mb)
            bv.input_order = align(ref_names, [s["name"] for s in info["inputs"]])
            inputs_npz = writer.work / f"{bv.name}.eval-inputs.npz"
            np.savez(inputs_npz, *[data.inputs[i] for i in bv.input_order])
            ev = evaluate(bv.runtime, bv.artifact.path, settings, inputs_npz,
                          writer.work / f"{bv.name}.eval-outputs.npz", opts.timeout, opts.profile.max_rss_mb)
            inputs_npz.unlink(missing_ok=True)
            bv.seconds_per_inference = ev.seconds_per_inference
            if reference is None and bv.artifact.pass_name == "source":
                reference = ev.outputs
                reference_desc = f"source .{source.format} file on {'LiteRT' if bv.runtime == 'litert' else 'ONNX Runtime'}"
            bv.accuracy = ev.outputs  # compared below once the reference is known
        except MeasureError as exc:
            bv.error = f"load test failed: {exc}"
        except Exception as exc:  # e.g. outputs that do not line up: this variant fails, the run goes on
            bv.error = f"load test failed: {type(exc).__name__}: {_one_line(exc)}"
    doc["model"]["reference"] = reference_desc or "none (the source model could not be run)"
    for bv in built:
        if bv.error or not isinstance(bv.accuracy, list):
            continue
        outputs = bv.accuracy
        try:
            bv.accuracy = compare_outputs(reference, outputs, data.labels) if reference is not None else {}
        except Exception as exc:  # outputs of another dtype or layout: no figures for this variant, no crash
            bv.accuracy = {"error": _one_line(exc)}
        bv.accuracy["data"] = data.kind

    if opts.op_profile:
        _op_profiles(opts, built, threads[0], data, writer, reporter)

    # 3. measure every (variant, threads, batch) in fresh pyperf worker processes
    combos = [(bv, t, b, sw) for bv in built for sw in settings_sweep(opts.profile, bv.runtime)
              for t in threads for b in batches if pending(bv.name, bv.runtime, t, b, sw[0])]
    reporter.stage(f"measuring ({opts.mode} mode)", total=len(combos))
    for bv, t, b, sw in combos:
        reporter.advance(item := f"{bv.runtime} {bv.name} t{t} b{b}" + (f" {sw[0]}" if sw[0] else ""))
        record, pyperf_json = _measure_one(opts, source, bv, t, b, sw, data, writer, host, host_is_target)
        writer.add(record, pyperf_json)
        item_done(reporter, item, record["status"])
    from edgebench.benchmarks.run.candidates import mark_recommended
    notes.extend(mark_recommended(doc["results"], {bv.name: bv.group for bv in built}))
    writer.flush()
    return doc


def _op_profiles(opts: RunOptions, built: list[BuiltVariant], threads: int, data: DataSet, writer: RunWriter,
                 reporter: Reporter) -> None:
    """ONNX Runtime's per-node profile of each ONNX variant, kept in DIR/op_profile/ and summarised in results.json."""
    from edgebench.benchmarks.measure.pyperf_run import op_profile
    onnx_variants = [bv for bv in built if bv.runtime == "onnxruntime" and not bv.error]
    reporter.stage(f"operator profiles (ONNX Runtime, {threads} thread)", total=len(onnx_variants))
    profiles = writer.doc.setdefault("op_profiles", {})
    for bv in onnx_variants:
        reporter.advance(bv.name)
        inputs_npz = writer.work / f"{bv.name}.b1.inputs.npz"
        np.savez(inputs_npz, *batch_of([data.inputs[i] for i in bv.input_order], 1))
        try:
            summary = op_profile(bv.artifact.path, threads, _runtime_settings(opts.profile, bv.runtime), inputs_npz,
                                 opts.out / "op_profile" / f"{bv.name}-t{threads}.json", opts.timeout)
            profiles[bv.name] = dict(summary, threads=threads, file=f"op_profile/{bv.name}-t{threads}.json")
        except MeasureError as exc:
            profiles[bv.name] = {"error": _one_line(exc), "threads": threads}
    writer.flush()


def bench_name(model: str, runtime: str, variant: str, threads: int, batch: int, label: str | None = None) -> str:
    name = f"{model}/{runtime}/{variant}/t{threads}"
    if batch != 1:
        name += f"/b{batch}"
    return f"{name}/{label}" if label else name


def _measure_one(opts: RunOptions, source: ModelSource, bv: BuiltVariant, threads: int, batch: int,
                 sweep: tuple[str | None, dict[str, Any]], data: DataSet, writer: RunWriter, host: dict[str, Any],
                 host_is_target: bool) -> tuple[dict[str, Any], Path | None]:
    label, settings = sweep
    name = bench_name(source.name, bv.runtime, bv.name, threads, batch, label)
    record: dict[str, Any] = {
        "benchmark": name, "model": source.name, "runtime": bv.runtime, "variant": bv.name, "threads": threads,
        "batch": batch, "settings_label": label, "status": "failed", "error": bv.error, "latency_ms": None, "throughput_ips": None,
        "cold_start_ms": None, "cold_start": None, "peak_rss_mb": None, "memory": None,
        "model_bytes": size_bytes(bv.artifact.path) if bv.artifact else None,
        "accuracy": bv.accuracy if isinstance(bv.accuracy, dict) else {},
        "accuracy_budget": None, "artifact": dict(bv.artifact.to_dict(), lineage=bv.lineage) if bv.artifact else None,
        "pass_notes": list(bv.artifact.notes) if bv.artifact else [], "recommended": False,
        "runtime_settings": settings, "mode": opts.mode,
        "measured_on": {"host_id": host["host_id"], "hostname": host["hostname"], "arch": host["arch"],
                        "cpu_model": host["cpu_model"], "target_arch": opts.profile.target_arch,
                        "host_is_target": host_is_target},
        "timing_scope": "target" if host_is_target else "host",
        "warnings": [],
    }
    acc = record["accuracy"]
    if acc and "error" not in acc:
        violations = budget_violations(acc, opts.profile.min_top1_agreement, opts.profile.min_cosine)
        record["accuracy_budget"] = {"ok": not violations, "violations": violations}
    if bv.error:
        return record, None
    inputs_npz = writer.work / f"{bv.name}.b{batch}.inputs.npz"
    if not inputs_npz.exists():
        np.savez(inputs_npz, *batch_of([data.inputs[i] for i in bv.input_order], batch))
    try:
        figures, pyperf_json = run_pyperf(name, bv.runtime, bv.artifact.path, threads, settings, inputs_npz, writer.work,
                                          opts.mode, bv.seconds_per_inference * batch, opts.timeout,
                                          opts.profile.max_rss_mb)
    except MeasureError as exc:
        record["error"] = _one_line(exc)
        return record, None
    except Exception as exc:  # e.g. unreadable pyperf output: a failed record, never the end of the run
        record["error"] = f"benchmark failed: {type(exc).__name__}: {_one_line(exc)}"
        return record, None
    record.update(figures)
    record["status"] = "ok"
    record["error"] = None
    median = figures["latency_ms"]["median"]
    record["throughput_ips"] = batch * 1000.0 / median if median else None
    return record, pyperf_json
