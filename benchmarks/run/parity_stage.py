"""Between the host's accuracy check and the measurements: every variant's accuracy on the target's own kernels.

Only when the profile targets another architecture than the host's (arm64 or mobile on x86): each variant runs on
the target's runtime builds under qemu, once per [target] qemu_cpu, on the first [target] samples of the same
inputs the host used. Without a prepared environment the run says so in one warning and keeps the host's figures.
"""
from __future__ import annotations

import concurrent.futures as cf
import os
from pathlib import Path
from typing import Any

import numpy as np

from edgebench.benchmarks.emulation.emulate import EmulationError, evaluate_emulated, known_cpus, stop_all
from edgebench.benchmarks.emulation.environment import TargetEnv, TargetError
from edgebench.benchmarks.emulation.parity import cross_cpu, parity_entry, target_budget
from edgebench.benchmarks.run.context import BuiltVariant, RunContext
from edgebench.benchmarks.run.options import item_done
from edgebench.benchmarks.run.settings import runtime_settings
from edgebench.hardware_profiles.accuracy_budget import AccuracyBudget
from edgebench.results.errors import one_line
from edgebench.results.record import Record

TARGET_OF_ARCH = {"arm64": "arm64"}


def check_on_target(ctx: RunContext, built: list[BuiltVariant], reference: list[Any] | None) -> None:
    """Sets bv.target (TargetAccuracy entries) on every variant the host could run; warns once when it cannot."""
    profile = ctx.opts.profile
    name = TARGET_OF_ARCH.get(profile.target_arch)
    if ctx.host_is_target or name is None:
        return
    runnable = [bv for bv in built if not bv.error and bv.outputs is not None]
    env = TargetEnv.for_target(name)
    problem = env.problem()
    if problem is not None:
        ctx.warn(f"accuracy not checked on the target's kernels: {problem}; the accuracy figures are the host's")
        return
    total = len(ctx.data.inputs[0])
    n = min(total, profile.target.samples if ctx.opts.mode != "fast" else max(1, profile.target.samples // 4))
    cpus = _usable_cpus(ctx, env, list(profile.target.qemu_cpu))
    if not cpus:
        return
    ctx.reporter.stage(f"accuracy on target kernels (emulated aarch64, {n} samples)", total=len(runnable) * len(cpus))
    jobs: dict[cf.Future, tuple[BuiltVariant, str]] = {}
    outputs: dict[tuple[str, str], list[np.ndarray]] = {}  # (variant, cpu): the target's outputs, until compared
    pool = cf.ThreadPoolExecutor(max_workers=max(1, min(2, os.cpu_count() or 1)))
    try:
        for bv in runnable:
            inputs_npz = ctx.writer.work / f"{bv.name}.target-inputs.npz"
            np.savez(inputs_npz, *[ctx.data.inputs[i][:n] for i in bv.input_order])
            for cpu in cpus:
                jobs[pool.submit(_one, ctx, env, bv, cpu, inputs_npz)] = (bv, cpu)
        for fut, (bv, cpu) in jobs.items():  # in the order they start; two run at a time
            ctx.reporter.advance(item := f"{bv.name} QEMU_CPU={cpu}")
            outs, error = fut.result()
            item_done(ctx.reporter, item, "ok" if outs is not None else "failed")
            entry = ({"qemu_cpu": cpu, "error": error} if outs is None else
                     _entry(cpu, reference, bv.outputs or [], outs, ctx.data.labels))
            if outs is not None:
                outputs[bv.name, cpu] = outs
            bv.target = sorted([*(bv.target or []), entry], key=lambda e: cpus.index(e["qemu_cpu"]))
            if outs is None:
                ctx.warn(f"{bv.name} could not be evaluated on the target's kernels (QEMU_CPU={cpu}): {error}")
    except BaseException:  # Ctrl-C: the emulated children run in their own sessions, so they are stopped here
        pool.shutdown(wait=False, cancel_futures=True)
        stop_all()
        raise
    pool.shutdown()
    _compare_cpus(runnable, cpus, outputs)
    for bv in runnable:
        (ctx.writer.work / f"{bv.name}.target-inputs.npz").unlink(missing_ok=True)
    versions = (env.manifest() or {}).get("packages", {})
    ctx.note(f"accuracy on target kernels: {n} of {total} samples per variant on the aarch64 builds of "
             f"onnxruntime {versions.get('onnxruntime')} and ai-edge-litert {versions.get('ai-edge-litert')} under "
             f"qemu user-mode emulation (QEMU_CPU={', '.join(cpus)}); the accuracy budget is judged on the host's "
             "figures and these; emulation is never timed")


def _usable_cpus(ctx: RunContext, env: TargetEnv, cpus: list[str]) -> list[str]:
    """The profile's CPU models that this qemu knows (a name may carry properties: max,sve=off); one warning each."""
    known = known_cpus(env.qemu())
    if known is None:
        return cpus
    unknown = [c for c in cpus if c.split(",")[0] not in known]
    for cpu in unknown:
        ctx.warn(f"QEMU_CPU={cpu} is not a CPU model {env.qemu().name} knows ({env.qemu().name} -cpu help lists "
                 "them): the target's kernels were not checked on it")
    return [c for c in cpus if c not in unknown]


def _compare_cpus(runnable: list[BuiltVariant], cpus: list[str],
                  outputs: dict[tuple[str, str], list[np.ndarray]]) -> None:
    """Each later CPU model's outputs against the first's: where dotprod (or its absence) changes the numbers."""
    for bv in runnable:
        for entry in bv.target or []:
            first, cpu = (bv.name, cpus[0]), entry["qemu_cpu"]
            if cpu != cpus[0] and first in outputs and (bv.name, cpu) in outputs:
                try:
                    entry["vs_cpu"] = cross_cpu(cpus[0], outputs[first], outputs[bv.name, cpu])
                except ValueError:  # outputs of different shapes: the entries' own figures say enough
                    pass


def _one(ctx: RunContext, env: TargetEnv, bv: BuiltVariant, cpu: str,
         inputs_npz: Path) -> tuple[list[np.ndarray] | None, str | None]:
    out_npz = ctx.writer.work / f"{bv.name}.{cpu}.target-outputs.npz"
    try:
        settings = runtime_settings(ctx.opts.profile, bv.runtime)
        return evaluate_emulated(env, cpu, bv.runtime, bv.path, settings, inputs_npz, out_npz, ctx.opts.timeout), None
    except Exception as exc:  # any failure is this variant's on this CPU model: the run goes on
        ours = isinstance(exc, (TargetError, EmulationError))  # already one line that says what happened
        return None, one_line(exc, 300) if ours else f"{type(exc).__name__}: {one_line(exc, 300)}"


def _entry(cpu: str, reference: list[Any] | None, host: list[Any], target: list[np.ndarray],
           labels: np.ndarray | None) -> dict[str, Any]:
    try:
        return parity_entry(cpu, reference, host, target, labels)
    except Exception as exc:  # outputs that do not line up with the host's: reported, never a crash
        return {"qemu_cpu": cpu, "error": f"outputs not comparable: {one_line(exc, 300)}"}


def add_target_figures(record: Record, bv: BuiltVariant, budget: AccuracyBudget) -> None:
    """The record's target accuracy, and its budget judged on the target's figures when there are any."""
    if not bv.target:
        return
    record["target_accuracy"] = bv.target  # type: ignore[typeddict-item]  # parity_entry builds TargetAccuracy
    judged = target_budget(record.get("accuracy_budget"), bv.target, budget)  # type: ignore[arg-type]
    if judged is not None:
        record["accuracy_budget"] = judged  # type: ignore[typeddict-item]
