"""An ONNX model (the source, or a .tflite source's tf2onnx form) brought to LiteRT: made static, converted with
onnx2tf, and the converted fp32 file checked against the ONNX model on the run's data before any TFLite pass starts
from its SavedModel. A conversion that misses is retried with onnx2tf's accuracy-preserving settings; the better of
the two is kept and the notes say which settings made it and how close it came.
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


def _feeds(ctx: BuildContext, onnx_path: str, onnx_names: list[str]) -> list[dict[str, np.ndarray]]:
    """Up to CHECK_SAMPLES samples of the run's data, one at a time, keyed by the ONNX model's input names."""
    import onnxruntime as ort

    from edgebench.benchmarks.isolation.npzio import take_samples
    from edgebench.benchmarks.variants.reference import align
    data = ctx.data
    ref_names = ctx.input_names or [f"input_{i}" for i in range(len(data.inputs))]
    order = align(ref_names, onnx_names)
    try:
        types = {i.name: i.type for i in ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"]).get_inputs()}
    except Exception:  # ONNX Runtime cannot load the source (a custom op): the data's own types; onnx2tf says more
        types = {}
    dtypes = {n: np.int64 if "int64" in t else np.int32 if "int32" in t else np.float32 for n, t in types.items()}
    out = []
    for s in range(min(CHECK_SAMPLES, data.samples)):
        one = take_samples(data.inputs, data.batch_axes, s, s + 1)
        out.append({n: np.asarray(one[i]).astype(dtypes.get(n, one[i].dtype)) for n, i in zip(onnx_names, order)})
    return out


def _attempt(ctx: BuildContext, onnx_file: Artifact, accurate: bool) -> tuple[Artifact, Artifact, Agreement | str]:
    """(SavedModel, its fp32 .tflite, the agreement or why the .tflite could not be checked)."""
    from edgebench.benchmarks.variants.shapes import onnx_input_names
    from edgebench.optimizers.conversion_check import compare
    from edgebench.optimizers.convert import savedmodel_to_tflite
    from edgebench.optimizers.onnx_to_tf import onnx_to_savedmodel
    names = onnx_input_names(onnx_file.path)
    feeds = _feeds(ctx, onnx_file.path, names)
    shapes = {n: list(x.shape) for n, x in feeds[0].items() if x.ndim >= 1}
    keep = [n for n, x in feeds[0].items() if 3 <= x.ndim <= 5]
    sm = onnx_to_savedmodel(onnx_file.path, onnx_file.sha256, shapes, keep, accurate=accurate)
    tfl = savedmodel_to_tflite(sm.path, sm.sha256)
    try:
        return sm, tfl, compare(onnx_file.path, tfl.path, feeds)
    except Exception as exc:  # a converted file LiteRT cannot run (e.g. "XNNPack delegate failed to reshape")
        return sm, tfl, f"the converted .tflite could not be checked against the source: {one_line(exc, 160)}"


def _noted(art: Artifact, notes: list[str]) -> Artifact:
    return dataclasses.replace(art, notes=[*art.notes, *notes])


def checked_conversion(ctx: BuildContext, onnx_file: Artifact) -> tuple[Artifact, Artifact]:
    """(SavedModel, fp32 .tflite) of `onnx_file`, checked; both carry the check in their notes. Raises
    ConversionError when no attempt gives a file LiteRT runs."""
    from edgebench.optimizers.convert import ConversionError
    from edgebench.optimizers.onnx_to_tf import ACCURATE
    sm, tfl, agree = _attempt(ctx, onnx_file, accurate=False)
    if not isinstance(agree, str) and agree.ok:
        return _noted(sm, [agree.text()]), _noted(tfl, [agree.text()])
    first = agree if isinstance(agree, str) else agree.text()
    try:
        sm2, tfl2, agree2 = _attempt(ctx, onnx_file, accurate=True)
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
    notes = [why, kept.text()]
    return (_noted(sm2, notes), _noted(tfl2, notes)) if better else (_noted(sm, notes), _noted(tfl, notes))

