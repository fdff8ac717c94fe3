"""ONNX -> TensorFlow SavedModel with onnx2tf, so that a model born in PyTorch or Paddle reaches LiteRT through the
same TFLiteConverter passes (fp32, fp16, dynamic-range and full int8) as a Keras model.

The graph is made static first (edgebench.optimizers.onnx_static): onnx2tf fails on symbolic dims handed to it as
overrides. onnx2tf 1.28.8 is the last release that declares no dependencies and runs in the converter child (TensorFlow
is there already); when it fails, onnx2tf 1.29.24 (installed privately, `--no-deps`: edgebench.optimizers.onnx2tf_env)
gets the same static graph. Habits disarmed: the sample-image download (we write that file, from fixed random data,
in a private working directory), TensorFlow's refusal of node names such as `Softmax@0` (every node is renamed), and
the `onnxsim` command from PATH (we run onnxsim's Python API ourselves).
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from edgebench.optimizers.artifacts import Artifact, cached
from edgebench.optimizers.convert import ConversionError, tool_versions
from edgebench.optimizers.onnx_static import safe_name

__all__ = ["ACCURATE", "ConverterMissing", "available", "onnx_to_savedmodel", "safe_name"]

INSTALL_HINT = ("pip install onnx2tf==1.28.8 'onnx-graphsurgeon>=0.6.1' sng4onnx tf-keras "
                "(edgebench's own dependencies: reinstalling edgebench brings them)")
# onnx2tf's accuracy-preserving settings, for a retry when the default conversion disagrees with the source
# (measured here on the BERT-like stand-in: cosine 0.984 -> 1.000000, max abs 0.74 -> 1e-6):
# - keep_shape_absolutely_input_names (-kat, every input): onnx2tf otherwise reads any 4-D input as NCHW and
#   transposes it, which breaks a float attention mask [1,1,1,L] added to transposed attention scores (broadcast
#   along the wrong axis; a mask of ones hides it);
# - replace_to_pseudo_operators Erf/GeLU/Power (-rtpo): GELU and Pow as plain elementwise graphs, not TF's fused forms;
# - disable_group_convolution (-dgc): grouped convolutions as separable ones instead of TF's grouped kernel.
ACCURATE: dict[str, Any] = {"keep_shape_absolutely_input_names": "every input",
                            "replace_to_pseudo_operators": ["Erf", "GeLU", "Power"],
                            "disable_group_convolution": True}


def _options(accurate: bool, inputs: list[str]) -> dict[str, Any]:
    if not accurate:
        return {}
    return dict(ACCURATE, keep_shape_absolutely_input_names=[safe_name(n) for n in inputs])


class ConverterMissing(RuntimeError):
    """onnx2tf (or a package it imports) is not installed; the message says how to install it."""


def available() -> None:
    """Raise ConverterMissing unless onnx2tf and what it imports at load time are installed."""
    import importlib.util
    missing = [m for m in ("onnx2tf", "tf_keras", "onnx_graphsurgeon", "sng4onnx") if importlib.util.find_spec(m) is None]
    if missing:
        raise ConverterMissing(f"ONNX -> TFLite needs onnx2tf, which is not installed (missing: {', '.join(missing)}); "
                               f"install it with: {INSTALL_HINT}")


def _prepared(onnx_path: str | Path, work: Path, input_shapes: dict[str, list[int]],
              batch_axes: dict[str, int] | None) -> tuple[Path, dict[str, str], list[str]]:
    """(the static model's path, {converter node name: the model's own}, notes)."""
    import onnx

    from edgebench.optimizers.onnx_static import make_static
    model = onnx.load(str(onnx_path))
    own = {f"node{i}_{n.op_type}": n.name or f"#{i}" for i, n in enumerate(model.graph.node)}
    try:
        model, notes = make_static(model, input_shapes, batch_axes)
    except ValueError as exc:
        raise ConversionError(f"cannot make the graph static for onnx2tf: {exc}") from None
    path = work / "model.onnx"
    onnx.save(model, str(path))
    return path, own, notes


def _convert(request: dict[str, Any], out: Path) -> tuple[str, str]:
    """onnx2tf, then the fallback release on failure: (notes line, full log); raises LoggedConversionError."""
    from importlib.metadata import version

    from edgebench.optimizers import onnx2tf_env
    from edgebench.optimizers.converter_log import LoggedConversionError
    from edgebench.optimizers.onnx2tf_child import convert_here
    mine = version("onnx2tf")
    ok, reason, log = convert_here(request)
    if ok:
        return f"onnx2tf {mine}", log
    if not onnx2tf_env.enabled() or mine == onnx2tf_env.FALLBACK_VERSION:
        raise LoggedConversionError(f"onnx2tf failed: {reason}", log)
    shutil.rmtree(out, ignore_errors=True)
    other = onnx2tf_env.FALLBACK_VERSION
    try:
        ok2, reason2, log2 = onnx2tf_env.run(request)
    except Exception as exc:  # no index, no disk: the first version's reason is the one that matters
        ok2, reason2, log2 = False, f"not installed ({exc})", ""
    both = f"=== onnx2tf {mine} ===\n{log}\n=== onnx2tf {other} (fallback) ===\n{log2}"
    if not ok2:
        raise LoggedConversionError(f"onnx2tf failed: {reason} (onnx2tf {other} too: {reason2})", both)
    return f"onnx2tf {other}, installed privately with --no-deps (onnx2tf {mine} failed: {reason})", both


def _restore_layout(static_model: Path, out: Path) -> list[str]:
    import onnx

    from edgebench.optimizers.onnx2tf_layout import restore_output_layout
    graph = onnx.load(str(static_model)).graph
    # a symbolic dim (the batch axis) is -1: it matches TensorFlow's None
    shapes = {o.name: [d.dim_value if d.HasField("dim_value") else -1 for d in o.type.tensor_type.shape.dim]
              for o in graph.output}
    return restore_output_layout(out, {n: s for n, s in shapes.items() if s and all(d > 0 for d in s[1:])})


def onnx_to_savedmodel(onnx_path: str | Path, parent_sha: str, input_shapes: dict[str, list[int]],
                       keep_layout: list[str], accurate: bool = False,
                       batch_axes: dict[str, int] | None = None) -> Artifact:
    """The ONNX model as a SavedModel (serving_default signature, inputs named as in ONNX). `input_shapes` sets
    every input's dims in the graph, except the axes of `batch_axes` the source left open (they stay symbolic, so
    the file runs any batch); the inputs in `keep_layout` keep their NCHW layout (a transpose inside the
    graph), so the same data feeds the ONNX and the TFLite files; `accurate` adds onnx2tf's ACCURATE settings."""
    available()

    def convert(out: Path) -> list[str]:
        with tempfile.TemporaryDirectory(prefix="edgebench-onnx2tf-") as tmp:
            work = Path(tmp)
            model, own, notes = _prepared(onnx_path, work, input_shapes, batch_axes)
            request = {"model": str(model), "out": str(out), "work": str(work), "node_names": own,
                       "keep_layout": [safe_name(n) for n in keep_layout],
                       "options": _options(accurate, list(input_shapes))}
            which, _log = _convert(request, out)
            turned = _restore_layout(model, out)
        for extra in out.glob("*.tflite"):  # our TFLiteConverter passes make the .tflite files from the SavedModel
            extra.unlink()
        settings_note = [f"onnx2tf accuracy-preserving settings: {ACCURATE}"] if accurate else []
        layout = [f"output(s) {', '.join(turned)} transposed back to the ONNX layout (onnx2tf writes them "
                  "channel-last)"] if turned else []
        return [*notes, which, *settings_note, *layout]

    settings: dict[str, Any] = {"recipe": 6, "input_shapes": input_shapes, "keep_layout": keep_layout,
                                "batch_axes": batch_axes or {},
                                "accurate": ACCURATE if accurate else None,
                                "tool": tool_versions("onnx2tf", "onnx", "onnxsim", "tensorflow", "tensorflow-cpu")}
    return cached(parent_sha, "onnx2tf", settings, "saved_model", convert)
