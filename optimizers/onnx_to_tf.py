"""ONNX -> TensorFlow SavedModel with onnx2tf, so that a model born in PyTorch reaches LiteRT through the same
TFLiteConverter passes (fp32, fp16, dynamic-range and full int8) as a Keras model.

onnx2tf 1.28.8 is the last release that declares no dependencies; later ones pin exact versions of TensorFlow,
ONNX, ONNX Runtime and numpy and would downgrade our whole stack. It runs inside the converter child (TensorFlow
is there already), with three of its habits disarmed: it downloads a sample-image file from GitHub whenever every
input looks like an RGB image (we write that file, from fixed random data, in a private working directory so
nothing is fetched); TensorFlow refuses ONNX node names such as `Softmax@0` as scope names (we rename every node);
and it would run the `onnxsim` command from PATH (we run onnxsim's Python API ourselves instead).
"""
from __future__ import annotations

import contextlib
import io
import os
import tempfile
from pathlib import Path
from typing import Any

from edgebench.optimizers.artifacts import Artifact, cached
from edgebench.optimizers.convert import ConversionError, tool_versions
from edgebench.results.errors import one_line

INSTALL_HINT = ("pip install onnx2tf==1.28.8 'onnx-graphsurgeon>=0.6.1' sng4onnx tf-keras "
                "(edgebench's own dependencies: reinstalling edgebench brings them)")
# onnx2tf reads this file from the working directory before it would download it
SAMPLE_FILE = "calibration_image_sample_data_20x128x128x3_float32.npy"


class ConverterMissing(RuntimeError):
    """onnx2tf (or a package it imports) is not installed; the message says how to install it."""


def available() -> None:
    """Raise ConverterMissing unless onnx2tf and what it imports at load time are installed."""
    import importlib.util
    missing = [m for m in ("onnx2tf", "tf_keras", "onnx_graphsurgeon", "sng4onnx") if importlib.util.find_spec(m) is None]
    if missing:
        raise ConverterMissing(f"ONNX -> TFLite needs onnx2tf, which is not installed (missing: {', '.join(missing)}); "
                               f"install it with: {INSTALL_HINT}")


def safe_name(name: str) -> str:
    """An input name onnx2tf can take: its NAME:D0,D1 arguments split at ':' (tf2onnx names inputs `x:0`)."""
    import re
    safe = re.sub(r"\W", "_", name)
    return safe if safe[:1].isalpha() else f"i_{safe}"


def _prepared(onnx_path: str | Path, work: Path) -> tuple[Path, list[str]]:
    """A copy of the model with every node renamed, inputs named safely and, when onnxsim manages, simplified;
    (path, notes)."""
    import onnx
    model = onnx.load(str(onnx_path))
    for i, node in enumerate(model.graph.node):
        node.name = f"node{i}_{node.op_type}"
    weights = {t.name for t in model.graph.initializer}
    renamed = {i.name: safe_name(i.name) for i in model.graph.input if i.name not in weights}
    for i in model.graph.input:
        i.name = renamed.get(i.name, i.name)
    for node in model.graph.node:
        node.input[:] = [renamed.get(n, n) for n in node.input]
    notes = []
    try:
        import onnxsim
        simplified, ok = onnxsim.simplify(model)
        if ok:
            model = simplified
            notes.append("onnxsim before onnx2tf")
    except Exception as exc:  # onnx2tf often copes with the unsimplified graph: say so, go on
        notes.append(f"onnxsim failed before onnx2tf ({one_line(exc, 120)}); converted unsimplified")
    path = work / "model.onnx"
    onnx.save(model, str(path))
    return path, notes


def _reason(exc: BaseException, log: str) -> str:
    """onnx2tf prints its error and then exits: its last ERROR line says more than the exception."""
    lines = [ln.strip() for ln in log.splitlines() if ln.strip()]
    flagged = [ln for ln in lines if "ERROR" in ln or "Error" in ln]
    text = flagged[-1] if flagged else one_line(exc, None) or (lines[-1] if lines else type(exc).__name__)
    import re
    return one_line(re.sub(r"\x1b\[[0-9;]*m", "", text), 300)


def onnx_to_savedmodel(onnx_path: str | Path, parent_sha: str, input_shapes: dict[str, list[int]],
                       keep_layout: list[str]) -> Artifact:
    """The ONNX model as a SavedModel (serving_default signature, inputs named as in ONNX). `input_shapes` fixes
    symbolic dimensions; the inputs in `keep_layout` keep their NCHW layout (a transpose inside the graph), so the
    same data feeds the ONNX and the TFLite files."""
    available()

    def convert(out: Path) -> list[str]:
        import numpy as np
        import onnx2tf

        with tempfile.TemporaryDirectory(prefix="edgebench-onnx2tf-") as tmp:
            work = Path(tmp)
            model, notes = _prepared(onnx_path, work)
            sample = np.random.default_rng(0).uniform(0, 1, (20, 128, 128, 3)).astype(np.float32)
            np.save(work / SAMPLE_FILE, sample)
            log, cwd = io.StringIO(), os.getcwd()
            try:
                os.chdir(work)
                with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
                    onnx2tf.convert(input_onnx_file_path=str(model), output_folder_path=str(out),
                                    output_signaturedefs=True, not_use_onnxsim=True,
                                    overwrite_input_shape=[f"{safe_name(n)}:{','.join(map(str, s))}"
                                                           for n, s in input_shapes.items()] or None,
                                    keep_ncw_or_nchw_or_ncdhw_input_names=[safe_name(n) for n in keep_layout] or None,
                                    verbosity="error")
            except (Exception, SystemExit) as exc:  # onnx2tf ends with sys.exit(1) on a model it cannot take
                raise ConversionError(f"onnx2tf failed: {_reason(exc, log.getvalue())}") from None
            finally:
                os.chdir(cwd)
        if not (out / "saved_model.pb").is_file():
            raise ConversionError(f"onnx2tf wrote no SavedModel: {_reason(RuntimeError(''), log.getvalue())}")
        for extra in out.glob("*.tflite"):  # our TFLiteConverter passes make the .tflite files from the SavedModel
            extra.unlink()
        return notes

    settings: dict[str, Any] = {"recipe": 2, "input_shapes": input_shapes, "keep_layout": keep_layout,
                                "tool": tool_versions("onnx2tf", "onnx", "tensorflow", "tensorflow-cpu")}
    return cached(parent_sha, "onnx2tf", settings, "saved_model", convert)
