"""Stage 1 of a run: build the variants and the reference outputs in the converter child (TensorFlow lives there)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from edgebench.benchmarks.isolation.side_by_side import Emit
from edgebench.benchmarks.run import memo
from edgebench.benchmarks.run.context import BuiltVariant, RunContext
from edgebench.benchmarks.run.options import item_begin, item_done
from edgebench.benchmarks.run.settings import settings_sweep
from edgebench.benchmarks.variants.converter_parent import ConverterProcess, source_specs
from edgebench.benchmarks.variants.lanes import build_in_lanes
from edgebench.benchmarks.variants.sources import ModelSource
from edgebench.benchmarks.variants.specs import VariantSpec
from edgebench.optimizers.calibration import RANDOM_CALIBRATION_NOTE
from edgebench.optimizers.errors import one_line


def still_needed(ctx: RunContext, specs: list[VariantSpec]) -> list[VariantSpec]:
    """The variants with at least one benchmark left to measure (all of them, unless resuming), and the full-int8
    variants a resumed mixed-precision search starts from (edgebench.benchmarks.run.mixed_stage.resumed_search)."""
    from edgebench.benchmarks.run.mixed_names import is_full_int8, resumed_search

    def left(name: str, runtime: str) -> bool:
        return any(ctx.unfinished(name, runtime, t, b, label) for t in ctx.threads for b in ctx.batches
                   for label, _ in settings_sweep(ctx.opts.profile, runtime))
    again = resumed_search(ctx, left)
    return [s for s in specs if left(s.name, s.runtime) or (s.runtime in again and is_full_int8(s.name, s.runtime))]


def build_variants(ctx: RunContext, converter: ConverterProcess, specs: list[VariantSpec],
                   helper: ConverterProcess | None = None, reference: ReferenceJob | None = None) -> list[BuiltVariant]:
    """Every variant's file (or its one-line failure); a crashing converter costs its own variant only. `helper`
    builds the second runtime's variants beside `converter` (edgebench.benchmarks.variants.lanes), and computes the
    `reference` outputs while `converter` builds what both start from."""
    beside = len({s.runtime for s in specs}) > 1 and reference is not None  # else no second child: see build_in_lanes
    ctx.reporter.stage("converting", total=len(specs) + int(beside))
    built: list[BuiltVariant] = []
    names = [s["name"] for s in ctx.io_specs]

    def item(name: str) -> str:
        return name if reference is not None and name == reference.name else f"building {name}"
    for b in build_in_lanes(converter, specs, ctx.source, ctx.opts.profile, ctx.data, names, ctx.writer.work,
                            lambda name: item_begin(ctx.reporter, item(name)),
                            lambda name, status: item_done(ctx.reporter, item(name), status), helper,
                            reference.beside if reference else None):
        if b.skipped:
            ctx.note(f"{b.spec.name} skipped: {b.skipped}")
            continue
        built.append(BuiltVariant(name=b.spec.name, runtime=b.spec.runtime, artifact=b.artifact, error=b.error,
                                  group=b.spec.group, lineage=b.lineage))
    ctx.note(converter.conversion_summary())
    if any(RANDOM_CALIBRATION_NOTE in bv.artifact.notes for bv in built if bv.artifact):
        ctx.warn(RANDOM_CALIBRATION_NOTE)
    return built


@dataclass
class Reference:
    """The source model's outputs in its framework, or why there are none (then `warning` is for the run)."""

    outputs: list[Any] | None
    description: str | None
    names: list[str] | None = None
    warning: str | None = None


class ReferenceJob:
    """The source model's outputs in its framework, computed once: by the second converter child while the first
    builds the shared parents (edgebench.benchmarks.variants.lanes), else in the load-test stage by the first."""

    def __init__(self, name: str, compute: Callable[[ConverterProcess], Reference], converter: ConverterProcess) -> None:
        self.name = name
        self._compute = compute
        self._converter = converter
        self.result: Reference | None = None

    def run(self, converter: ConverterProcess | None = None) -> Reference:
        if self.result is None:
            self.result = self._compute(converter or self._converter)
        return self.result

    def job(self, emit: Emit) -> None:
        """For side_by_side in the load-test stage: computed by the first converter child."""
        self.beside(self._converter, emit)

    def beside(self, converter: ConverterProcess, emit: Emit) -> None:
        """For build_in_lanes: reports nothing itself, tells its start and end through `emit`."""
        emit("start", self.name, "")
        emit("done", self.name, "ok" if self.run(converter).outputs is not None else "failed")


def reference_job(ctx: RunContext, converter: ConverterProcess, handle: Any) -> ReferenceJob | None:
    """The job that computes the source model's outputs in Keras/TensorFlow, or None when there is nothing to
    compute. It reports nothing, so it may run beside other work.

    Sources that TensorFlow does not run (.tflite, .onnx) have no handle: their reference is the source file on its
    own runtime, taken during the accuracy stage.
    """
    if not handle:
        return None
    framework = "Keras" if ctx.source.format == "keras" else "TensorFlow"
    tf_versions = {k: v for k, v in ctx.host["packages"].items() if k in ("tensorflow", "keras")}
    key = memo.memo_key("reference", ctx.source.sha256, ctx.io_specs, memo.arrays_digest(ctx.data.inputs),
                        ctx.data.batch_axes, tf_versions, ctx.host["cpu_model"], ctx.host["kernel_flags"])

    def compute(conv: ConverterProcess) -> Reference:
        if (hit := memo.load("reference", key)) is not None:
            return Reference(hit[0], f"source model in {framework}", hit[1].get("output_names"))
        try:
            outputs, names = conv.reference(ctx.source, ctx.io_specs, ctx.data.inputs, ctx.writer.work,
                                            ctx.data.batch_axes)
        except Exception as exc:  # the variants are still measured, without an accuracy comparison
            why = f"none (the source model failed in {framework}: {one_line(exc, 400)})"
            return Reference(None, why, warning=f"no accuracy figures: {why}")
        memo.store("reference", key, outputs, {"source": ctx.source.name, "output_names": names})
        return Reference(outputs, f"source model in {framework}", names)  # names: what accuracy figures are called

    return ReferenceJob(f"reference outputs ({ctx.source.format}) on {ctx.data.samples} samples", compute, converter)


def model_specs(source: ModelSource, converter: ConverterProcess, timeout: float,
                host: dict[str, Any]) -> tuple[bool, list[dict[str, Any]]]:
    """The source's input specs; for a Keras/SavedModel source, from the cache when the same file was read before
    with the same TensorFlow, so a run whose conversions are cached never starts TensorFlow at all."""
    if source.format not in ("keras", "savedmodel"):
        return source_specs(source, converter, timeout)
    tf_versions = {k: v for k, v in host["packages"].items() if k in ("tensorflow", "keras")}
    key = memo.memo_key("specs", source.sha256, source.format, tf_versions)
    if (hit := memo.load("specs", key)) is not None:
        return True, list(hit[1]["specs"])
    handle, specs = source_specs(source, converter, timeout)
    memo.store("specs", key, [], {"specs": specs})
    return handle, specs
