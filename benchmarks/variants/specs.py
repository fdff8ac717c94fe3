"""The variants a run can build, each a deployable file for one runtime, made by optimizers/ passes.

A builder gets a BuildContext (the source model, the profile, the data and the artifacts made so far) and returns an
Artifact, or raises NotApplicable (skipped with a note) or another error (a failed record with a one-line reason).
The profile decides the settings: its [quantization] and [optimization] tables, and its static-quantization
candidates, each of which becomes its own variant `onnx-static-int8-<name>`.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from edgebench.benchmarks.variants.shapes import onnx_input_names
from edgebench.benchmarks.variants.sources import ModelSource
from edgebench.optimizers.artifacts import Artifact
from edgebench.results.record import Runtime

if TYPE_CHECKING:
    from edgebench.optimizers.calibration import CalibrationSet


class NotApplicable(Exception):
    """The variant cannot be made from this kind of source; said plainly, not counted as a failure."""


STATIC_FAMILY = "onnx-static-int8"
QUANTIZED = "quantized"  # the group whose fastest in-budget member a run recommends
REWRITTEN = "onnx-rewritten"


@dataclass
class BuildContext:
    source: ModelSource
    profile: Any
    data: Any = None  # edgebench.benchmarks.variants.data.DataSet: calibration samples (kind says embedded / user / random)
    cache: dict[str, Artifact] = field(default_factory=dict)
    input_names: list[str] | None = None  # the reference model's input names, in the order of data.inputs
    known: dict[str, Artifact] = field(default_factory=dict)  # every artifact made or reused, by sha256
    failures: dict[str, BaseException] = field(default_factory=dict)
    loaded: Any = None  # the Keras source already loaded by the converter child (safe mode): exported, not reloaded

    def remember(self, art: Artifact) -> Artifact:
        self.known.setdefault(art.sha256, art)
        return art

    def saved_model(self) -> Artifact:
        """The TensorFlow graph the TFLite passes start from: the Keras export, the SavedModel itself, or onnx2tf's
        conversion of an ONNX source (made once; its failure is remembered, so every TFLite variant says it)."""
        if "savedmodel" in self.failures:
            raise self.failures["savedmodel"]
        if "savedmodel" not in self.cache:
            from edgebench.optimizers.artifacts import sha256_path
            from edgebench.optimizers.convert import keras_to_savedmodel
            if self.source.format == "keras":
                self.cache["savedmodel"] = keras_to_savedmodel(self.source.path, self.loaded)
            elif self.source.format == "savedmodel":
                self.cache["savedmodel"] = Artifact(str(self.source.path), sha256_path(self.source.path), None,
                                                    "source", {})
            else:
                try:
                    self.cache["savedmodel"] = self._from_onnx()
                except Exception as exc:
                    self.failures["savedmodel"] = exc
                    raise
        return self.remember(self.cache["savedmodel"])

    def shared_parents(self) -> None:
        """Build what the variants of both runtimes start from, so that two converters can then work at once without
        both building it: a Keras source's export, a .tflite source's ONNX form (the start of its LiteRT passes)."""
        if self.source.format == "keras":
            self.saved_model()
        elif self.source.format == "tflite":
            self.variant("onnx-fp32")

    def _from_onnx(self) -> Artifact:
        """onnx2tf on the ONNX source, or on a .tflite source's ONNX form (tf2onnx), made static first and checked
        against that ONNX file on the run's data (edgebench.benchmarks.variants.onnx_reach): the TFLite converter's
        passes then apply to them too. Every input keeps its layout, so the same data feeds every variant."""
        from edgebench.benchmarks.variants.onnx_reach import checked_conversion
        from edgebench.optimizers.onnx_to_tf import ConverterMissing
        try:
            sm, self.cache["checked-tflite"] = checked_conversion(self, self.variant("onnx-fp32"))
        except ConverterMissing as exc:
            raise NotApplicable(str(exc)) from None
        return sm

    def variant(self, name: str) -> Artifact:
        """Build (once per run) the variant another one starts from; its failure is remembered, not retried."""
        if name in self.failures:
            raise self.failures[name]
        if name not in self.cache:
            spec = registry(self.profile).get(name)
            if spec is None:
                raise ValueError(f"unknown variant {name!r} (named in the profile)")
            try:
                self.cache[name] = self.remember(spec.build(self))
            except Exception as exc:
                self.failures[name] = exc
                raise
        return self.cache[name]

    def lineage(self, art: Artifact) -> list[dict[str, Any]]:
        """The chain of passes from the source to `art`, source first."""
        chain = [art.to_dict()]
        seen = {art.sha256}
        parent = art.parent
        while parent and parent in self.known and parent not in seen:
            seen.add(parent)
            a = self.known[parent]
            chain.append(a.to_dict())
            parent = a.parent
        last = chain[-1]
        if last["pass"] != "source" and last["parent"] == self.source.sha256:
            chain.append({"path": str(self.source.path), "sha256": self.source.sha256, "parent": None,
                          "pass": "source", "settings": {"format": self.source.format}, "notes": []})
        for entry in chain:
            entry.pop("reused", None)
        return chain[::-1]

    def calibration(self, target_names: list[str]) -> CalibrationSet:
        """Calibration samples keyed by the target model's input names: the embedded model's *training* digits
        (never the held-out accuracy samples), else the first samples of --data, else random data (noted loudly)."""
        from edgebench.benchmarks.variants.reference import align
        from edgebench.optimizers.calibration import CalibrationSet

        if self.data is None:
            raise NotApplicable("no calibration data")
        n = int(self.profile.quantization.get("calibration_samples", 128))
        if self.data.kind == "embedded":
            from edgebench.benchmarks.variants.default_model import digits
            x, _ = digits("train", limit=n)
            inputs, desc = [x], f"{len(x)} training digits (not the accuracy samples)"
        elif self.data.calibration_inputs is not None:  # an image folder's calibration half
            inputs = self.data.calibration_inputs
            n = min(n, len(inputs[0]))
            inputs, desc = [x[:n] for x in inputs], f"{n} calibration images (not the accuracy samples)"
        else:
            from edgebench.benchmarks.isolation.npzio import take_samples
            inputs = take_samples(self.data.inputs, self.data.batch_axes, 0, min(n, self.data.samples))
            desc = f"first {min(n, self.data.samples)} samples of the {self.data.kind} data"
        ref_names = self.input_names or [f"input_{i}" for i in range(len(inputs))]
        order = align(ref_names, target_names)
        if len(order) != len(target_names) or any(i >= len(inputs) for i in order):
            raise ValueError(f"calibration data has {len(inputs)} input(s), the model wants {len(target_names)}")
        axes = self.data.batch_axes if self.data.kind != "embedded" else [0]
        return CalibrationSet({name: inputs[i] for name, i in zip(target_names, order)}, self.data.kind, desc,
                              {name: axes[i] for name, i in zip(target_names, order) if axes[i] != 0})

    def evaluation(self, target_names: list[str]) -> CalibrationSet:
        """Every evaluation sample of the run (the ones accuracy is measured on), keyed by the target's input names:
        what a graph rewrite is proved on."""
        from edgebench.benchmarks.variants.reference import align
        from edgebench.optimizers.calibration import CalibrationSet

        if self.data is None:
            raise NotApplicable("no evaluation data to prove a rewrite on")
        ref_names = self.input_names or [f"input_{i}" for i in range(len(self.data.inputs))]
        order = align(ref_names, target_names)
        if len(order) != len(target_names) or any(i >= len(self.data.inputs) for i in order):
            raise ValueError(f"evaluation data has {len(self.data.inputs)} input(s), the model wants {len(target_names)}")
        return CalibrationSet({name: self.data.inputs[i] for name, i in zip(target_names, order)}, self.data.kind,
                              self.data.description)


def _source_artifact(ctx: BuildContext) -> Artifact:
    return Artifact(str(ctx.source.path), ctx.source.sha256, None, "source", {"format": ctx.source.format})


def build_tflite_fp32(ctx: BuildContext) -> Artifact:
    if ctx.source.format == "tflite":
        return _source_artifact(ctx)
    from edgebench.optimizers.convert import savedmodel_to_tflite
    sm = ctx.saved_model()
    if ctx.source.format == "onnx":  # made and checked against the source with the SavedModel
        return ctx.cache["checked-tflite"]
    return savedmodel_to_tflite(sm.path, sm.sha256)


def build_onnx_fp32(ctx: BuildContext) -> Artifact:
    if ctx.source.format == "onnx":
        return _source_artifact(ctx)
    if ctx.source.format == "tflite":
        from edgebench.optimizers.convert import tflite_to_onnx
        return tflite_to_onnx(ctx.source.path, ctx.source.sha256)
    from edgebench.optimizers.convert import savedmodel_to_onnx
    sm = ctx.saved_model()
    return savedmodel_to_onnx(sm.path, sm.sha256)


# --- TFLite quantization: needs the TensorFlow graph (for an .onnx source, onnx2tf's) ------------------------------

def _tf_graph(ctx: BuildContext) -> Artifact:
    return ctx.saved_model()


def build_tflite_fp16(ctx: BuildContext) -> Artifact:
    from edgebench.optimizers.tflite_quant import float16
    sm = _tf_graph(ctx)
    return float16(sm.path, sm.sha256)


def build_tflite_dynamic_int8(ctx: BuildContext) -> Artifact:
    from edgebench.optimizers.tflite_quant import dynamic_range_int8
    sm = _tf_graph(ctx)
    return dynamic_range_int8(sm.path, sm.sha256)


def _tflite_int8(ctx: BuildContext, io_type: str) -> Artifact:
    from edgebench.optimizers.tflite_quant import full_integer_int8
    sm = _tf_graph(ctx)
    names = ctx.input_names or [f"input_{i}" for i in range(len(ctx.data.inputs))]
    return full_integer_int8(sm.path, sm.sha256, ctx.calibration(names), io_type)


def build_tflite_int8(ctx: BuildContext) -> Artifact:
    return _tflite_int8(ctx, "float32")


def build_tflite_int8_io(ctx: BuildContext) -> Artifact:
    return _tflite_int8(ctx, str(ctx.profile.quantization.get("tflite_int8_io_type", "int8")))


# --- ONNX passes ----------------------------------------------------------------------------------------------------

def build_onnx_simplified(ctx: BuildContext) -> Artifact:
    from edgebench.optimizers.onnx_passes import simplify
    return simplify(ctx.variant("onnx-fp32"))


def build_onnx_optimized(ctx: BuildContext) -> Artifact:
    from edgebench.optimizers.onnx_passes import ort_optimize
    level = ctx.profile.optimization.get("onnx_offline_level", ctx.profile.onnxruntime.graph_optimization_level)
    return ort_optimize(ctx.variant("onnx-fp32"), level)


def build_onnx_transformer(ctx: BuildContext) -> Artifact:
    from edgebench.optimizers.errors import PassSkipped
    from edgebench.optimizers.onnx_passes import transformer_fusions
    try:
        return transformer_fusions(ctx.variant("onnx-fp32"),
                                   ctx.profile.optimization.get("transformer_model_type", "bert"))
    except PassSkipped as exc:
        raise NotApplicable(str(exc)) from None


def build_onnx_dynamic_int8(ctx: BuildContext) -> Artifact:
    from edgebench.optimizers.onnx_hygiene import weights_as_initializers
    from edgebench.optimizers.onnx_quant import DynamicOptions, dynamic_quantize
    return dynamic_quantize(ctx.remember(weights_as_initializers(ctx.variant("onnx-fp32"))), DynamicOptions(**ctx.profile.quantization.get("onnx_dynamic", {})))


def build_onnx_rewritten(ctx: BuildContext) -> Artifact:
    from edgebench.optimizers.errors import PassSkipped
    from edgebench.optimizers.rewrites.apply import rewrite
    model = ctx.variant("onnx-fp32")
    try:
        return rewrite(model, ctx.evaluation(onnx_input_names(model.path)),
                       ctx.profile.optimization.get("rewrite_rules"))
    except PassSkipped as exc:
        raise NotApplicable(str(exc)) from None


def _static_builder(settings: dict[str, Any]) -> Callable[[BuildContext], Artifact]:
    def build(ctx: BuildContext) -> Artifact:
        from edgebench.optimizers.onnx_hygiene import weights_as_initializers
        from edgebench.optimizers.onnx_quant import StaticOptions, pre_process, static_quantize
        settings_ = dict(settings)
        # `source = "onnx-rewritten"`: rewrite first, then quantize (a skipped rewrite skips this candidate too)
        model = ctx.remember(weights_as_initializers(ctx.variant(settings_.pop("source", "onnx-fp32"))))
        options = StaticOptions(**settings_)
        if options.pre_process:
            model = ctx.remember(pre_process(model))
        return static_quantize(model, ctx.calibration(onnx_input_names(model.path)), options)
    return build


def build_ort_format(ctx: BuildContext) -> Artifact:
    from edgebench.optimizers.onnx_passes import to_ort_format
    start = ctx.profile.optimization.get("ort_format_source", "onnx-fp32")
    if start == "ort-format":
        raise ValueError("optimization.ort_format_source cannot be ort-format itself")
    return to_ort_format(ctx.variant(start), ctx.profile.optimization.get("ort_format_target", "arm"))


@dataclass(frozen=True)
class VariantSpec:
    name: str
    runtime: Runtime
    build: Callable[[BuildContext], Artifact]
    summary: str
    group: str = "baseline"


VARIANTS: dict[str, VariantSpec] = {s.name: s for s in [
    VariantSpec("tflite-fp32", "litert", build_tflite_fp32, "TFLiteConverter, float32"),
    VariantSpec("tflite-fp16", "litert", build_tflite_fp16, "TFLiteConverter, float16 weights", QUANTIZED),
    VariantSpec("tflite-dynamic-int8", "litert", build_tflite_dynamic_int8,
                "TFLiteConverter dynamic range: int8 weights, float activations", QUANTIZED),
    VariantSpec("tflite-int8", "litert", build_tflite_int8,
                "TFLiteConverter full integer int8 (representative dataset), float32 I/O", QUANTIZED),
    VariantSpec("tflite-int8-io", "litert", build_tflite_int8_io,
                "TFLiteConverter full integer int8 with integer I/O (profile's tflite_int8_io_type)", QUANTIZED),
    VariantSpec("onnx-fp32", "onnxruntime", build_onnx_fp32, "tf2onnx, float32, opset 17"),
    VariantSpec("onnx-simplified", "onnxruntime", build_onnx_simplified, "onnxsim on onnx-fp32"),
    VariantSpec("onnx-optimized", "onnxruntime", build_onnx_optimized,
                "ONNX Runtime offline graph optimization, saved at the profile's level"),
    VariantSpec("onnx-transformer-optimized", "onnxruntime", build_onnx_transformer,
                "onnxruntime.transformers.optimizer fusions (attention / layer norm graphs only)"),
    VariantSpec(REWRITTEN, "onnxruntime", build_onnx_rewritten,
                "exactly equivalent graph rewrites (PRelu and its Keras form, Transpose pairs, Clip), proved on data"),
    VariantSpec("onnx-dynamic-int8", "onnxruntime", build_onnx_dynamic_int8,
                "ONNX Runtime dynamic quantization (profile's onnx_dynamic settings)", QUANTIZED),
    VariantSpec("ort-format", "onnxruntime", build_ort_format, "ORT format (.ort) for mobile / minimal builds"),
]}


def static_specs(profile: Any) -> list[VariantSpec]:
    """One variant per [[quantization.onnx_static]] candidate of the profile (one default candidate if none)."""
    from edgebench.hardware_profiles.optimizer_settings import static_candidates

    cands = static_candidates(profile.quantization) or [{}]
    specs = []
    for cand in cands:
        name = cand.pop("name", None)
        vname = f"{STATIC_FAMILY}-{name}" if name else STATIC_FAMILY
        desc = ", ".join(f"{k}={v}" for k, v in cand.items()) or "library defaults"
        specs.append(VariantSpec(vname, "onnxruntime", _static_builder(cand),
                                 f"ONNX Runtime static quantization ({desc})", QUANTIZED))
    return specs


def registry(profile: Any) -> dict[str, VariantSpec]:
    """Every variant this profile can build, by name."""
    out = dict(VARIANTS)
    out.update({s.name: s for s in static_specs(profile)})
    return out


def plan_variants(names: list[str] | None, profile: Any) -> list[VariantSpec]:
    """The specs to build, in order: the given names or the profile's; `onnx-static-int8` means every candidate."""
    from edgebench.results.errors import UserError

    reg = registry(profile)
    statics = [s.name for s in static_specs(profile)]
    out: list[VariantSpec] = []
    for name in names or list(profile.variants):
        expanded = statics if name == STATIC_FAMILY else [name]
        for n in expanded:
            if n not in reg:
                raise UserError(f"unknown variant {n!r}; known for profile {profile.name}: {', '.join(reg)}")
            if reg[n] not in out:
                out.append(reg[n])
    return out


def conversion_summary(known: Iterable[Artifact]) -> str:
    """One line on the passes a run ran and the files it took from the cache, over every artifact it made or reused."""
    arts = list(known)
    made = [a for a in arts if not a.reused and a.pass_name != "source"]
    reused = [a for a in arts if a.reused]
    return (f"conversions: {len(made)} pass(es) run, {len(reused)} file(s) reused from the cache"
            + (f" ({', '.join(sorted({a.pass_name for a in made}))})" if made else ""))
