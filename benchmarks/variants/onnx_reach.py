"""An ONNX model (the source, or a .tflite source's tf2onnx form) brought to LiteRT: made static, converted with
onnx2tf, and the converted fp32 file checked against the ONNX model on the run's data before any TFLite pass starts
from its SavedModel. A conversion that misses is retried with onnx2tf's accuracy-preserving settings; the better of
the two is kept and the notes say which settings made it and how close it came.

Every dim is made static except the batch axes the source leaves open (the data's batch_axes): the file must still
run `--batch 2`, and the check runs one batch of two. When that conversion fails or misses, the fully static graph
(batch 1) is converted instead and the notes say the file is batch 1 only.
"""
from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from edgebench.optimizers.artifacts import Artifact
from edgebench.results.errors import one_line

if TYPE_CHECKING:
    from edgebench.optimizers.conversion_check import Agreement


class BuildContext(Protocol):
    """What the check reads of specs.BuildContext (named here so that specs, which calls this module, is not
    imported back)."""

    data: Any
    input_names: list[str] | None

CHECK_SAMPLES = 8  # enough to see a broken layout or an approximation; each sample runs on both runtimes


@dataclasses.dataclass
class _Inputs:
    """The run's data as the ONNX model takes it."""

    names: list[str]
    order: list[int]  # for each ONNX input, its index in the data
    dtypes: dict[str, Any]
    open_axes: dict[str, int]  # ONNX input -> batch axis the source leaves symbolic

    def feed(self, ctx: BuildContext, start: int, stop: int) -> dict[str, np.ndarray]:
        from edgebench.benchmarks.isolation.npzio import take_samples
        part = take_samples(ctx.data.inputs, ctx.data.batch_axes, start, stop)
        return {n: np.asarray(part[i]).astype(self.dtypes.get(n, part[i].dtype)) for n, i in zip(self.names,
                                                                                                   self.order)}


def _inputs(ctx: BuildContext, onnx_path: str) -> _Inputs:
    import onnx
    import onnxruntime as ort

    from edgebench.benchmarks.variants.reference import align
    from edgebench.benchmarks.variants.shapes import onnx_input_names
    names = onnx_input_names(onnx_path)
    data = ctx.data
    order = align(ctx.input_names or [f"input_{i}" for i in range(len(data.inputs))], names)
    try:
        types = {i.name: i.type for i in ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"]).get_inputs()}
    except Exception:  # ONNX Runtime cannot load the source (a custom op): the data's own types; onnx2tf says more
        types = {}
    dtypes = {n: np.int64 if "int64" in t else np.int32 if "int32" in t else np.float32 for n, t in types.items()}
    ins = _Inputs(names, order, dtypes, {})
    dims = {i.name: i.type.tensor_type.shape.dim for i in onnx.load(onnx_path, load_external_data=False).graph.input}
    for n, i in zip(names, order):
        ax = data.batch_axes[i]
        if ax is not None and ax < len(dims.get(n, [])) and not dims[n][ax].dim_value > 0:
            ins.open_axes[n] = ax
    if ins.open_axes and data.samples >= 2:
        try:  # a source that cannot run a batch of two (a Gemm on [1, L, H] reshaped to [L, H]) gains nothing
            ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"]).run(None, ins.feed(ctx, 0, 2))
        except Exception:
            ins.open_axes.clear()
    return ins


def _attempt(ctx: BuildContext, onnx_file: Artifact, ins: _Inputs, accurate: bool,
             open_batch: bool) -> tuple[Artifact, Artifact, Agreement | str]:
    """(SavedModel, its fp32 .tflite, the agreement or why the .tflite could not be checked)."""
    from edgebench.optimizers.conversion_check import compare
    from edgebench.optimizers.convert import savedmodel_to_tflite
    from edgebench.optimizers.onnx_to_tf import onnx_to_savedmodel
    feeds = [ins.feed(ctx, s, s + 1) for s in range(min(CHECK_SAMPLES, ctx.data.samples))]
    shapes = {n: list(x.shape) for n, x in feeds[0].items() if x.ndim >= 1}
    keep = [n for n, x in feeds[0].items() if 3 <= x.ndim <= 5]
    axes = ins.open_axes if open_batch else {}
    if axes and ctx.data.samples >= 2:  # the symbolic batch must work: one batch of two is checked too
        feeds.append(ins.feed(ctx, 0, 2))
    sm = onnx_to_savedmodel(onnx_file.path, onnx_file.sha256, shapes, keep, accurate=accurate, batch_axes=axes)
    tfl = savedmodel_to_tflite(sm.path, sm.sha256)
    try:
        return sm, tfl, compare(onnx_file.path, tfl.path, feeds)
    except Exception as exc:  # a converted file LiteRT cannot run (e.g. "XNNPack delegate failed to reshape")
        return sm, tfl, f"the converted .tflite could not be checked against the source: {one_line(exc, 160)}"


def _noted(art: Artifact, notes: list[str]) -> Artifact:
    return dataclasses.replace(art, notes=[*art.notes, *notes])


Converted = tuple[Artifact, Artifact, "Agreement", list[str]]  # SavedModel, fp32 .tflite, agreement, notes


def _with_retry(ctx: BuildContext, onnx_file: Artifact, ins: _Inputs, open_batch: bool) -> Converted:
    """The default conversion, and the accuracy-preserving one when the default misses: the better of the two.
    Raises ConversionError when no attempt gives a file LiteRT runs."""
    from edgebench.optimizers.convert import ConversionError
    from edgebench.optimizers.onnx_to_tf import ACCURATE
    sm, tfl, agree = _attempt(ctx, onnx_file, ins, False, open_batch)
    if not isinstance(agree, str) and agree.ok:
        return sm, tfl, agree, [agree.text()]
    first = agree if isinstance(agree, str) else agree.text()
    try:
        sm2, tfl2, agree2 = _attempt(ctx, onnx_file, ins, True, open_batch)
    except ConversionError as exc:
        sm2, tfl2, agree2 = sm, tfl, f"the retry failed: {one_line(exc, 160)}"
    better = not isinstance(agree2, str) and (isinstance(agree, str) or agree2.better_than(agree))
    if isinstance(agree, str) and not better:
        raise ConversionError(f"{agree} (retried with onnx2tf's accuracy-preserving settings: "
                              f"{agree2 if isinstance(agree2, str) else agree2.text()})")
    kept = agree2 if better else agree
    assert not isinstance(kept, str)
    why = (f"default onnx2tf conversion missed ({first}); retried with onnx2tf's accuracy-preserving settings "
           f"{ACCURATE}: kept the {'retry' if better else 'default conversion'}")
    return (sm2, tfl2, kept, [why, kept.text()]) if better else (sm, tfl, kept, [why, kept.text()])


def checked_conversion(ctx: BuildContext, onnx_file: Artifact) -> tuple[Artifact, Artifact]:
    """(SavedModel, fp32 .tflite) of `onnx_file`, checked; both carry the check in their notes. The batch axes stay
    symbolic if they can; else batch 1 is fixed. Raises ConversionError when no attempt gives a file LiteRT runs."""
    from edgebench.optimizers.convert import ConversionError
    opened: Converted | None = None
    why = ""
    ins = _inputs(ctx, onnx_file.path)
    if ins.open_axes:
        try:
            opened = _with_retry(ctx, onnx_file, ins, open_batch=True)
        except ConversionError as exc:
            why = f"with a symbolic batch axis: {one_line(exc, 160)}"
        else:
            if opened[2].ok:
                return _noted(opened[0], opened[3]), _noted(opened[1], opened[3])
            why = f"with a symbolic batch axis the file missed ({opened[2].text()})"
    try:
        kept = _with_retry(ctx, onnx_file, ins, open_batch=False)
    except ConversionError:
        if opened is None:
            raise
        kept = opened
    else:
        if opened is not None and opened[2].better_than(kept[2]):
            kept = opened
        elif why:
            kept = (*kept[:3], [f"converted with every dim static, batch 1 only: {why}", *kept[3]])
    return _noted(kept[0], kept[3]), _noted(kept[1], kept[3])
