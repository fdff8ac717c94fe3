"""Format conversions: Keras -> SavedModel -> TFLite / ONNX, and TFLite -> ONNX. Each returns a cached Artifact.

TensorFlow is imported inside the functions that need it. `bench run` calls them in its converter child process
(edgebench.benchmarks.variants.converter_child), so a crash or hang of TensorFlow, its converters or tf2onnx costs that
child only; elsewhere tf2onnx runs in a child process of its own.
"""
from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgebench.optimizers.artifacts import Artifact, cached, sha256_path
from edgebench.results.errors import one_line

if TYPE_CHECKING:
    import keras

DEFAULT_OPSET = 17
IN_CONVERTER_CHILD = "EDGEBENCH_CONVERTER_CHILD"  # "1" in the converter child: tf2onnx may run in that process


class ConversionError(RuntimeError):
    """A conversion that failed; the message is one line naming the cause."""


def _quiet_tf() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


def import_tensorflow() -> None:
    _quiet_tf()
    import tensorflow  # noqa: F401  (its import takes seconds: done ahead of the first conversion)


def tool_versions(*dists: str) -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version
    out = {}
    for d in dists:  # only the installed ones: TensorFlow is `tensorflow-cpu` on x86-64, `tensorflow` elsewhere
        try:
            out[d] = version(d)
        except PackageNotFoundError:
            pass
    return out


def load_keras(path: str | Path) -> keras.Model:
    """Load a .keras file in safe mode: a Lambda layer or other arbitrary code is refused, never executed."""
    _quiet_tf()
    import keras

    try:
        return keras.saving.load_model(str(path), compile=False, safe_mode=True)
    except Exception as exc:  # keras raises ValueError/TypeError/OSError/zipfile errors for bad files
        msg = one_line(exc, None)
        if "safe_mode" in msg or "Lambda" in msg:
            raise ConversionError(f"{path}: refused by Keras safe mode (the model contains a Lambda layer or other "
                                  "arbitrary Python code, which could run anything on load); rebuild it without "
                                  "Lambda layers or export a SavedModel") from None
        named = re.findall(r"'module': '([\w.]+)', 'class_name': '(\w+)'", msg)
        if named:  # Keras' own message starts generic; the object it choked on comes last
            module, cls = named[-1]
            raise ConversionError(f"{path}: cannot load as a Keras model: it names {module}.{cls}, which Keras could "
                                  "not load as a model component (custom or non-Keras objects are refused in safe "
                                  "mode; nothing was executed)") from None
        raise ConversionError(f"{path}: cannot load as a Keras model: {msg[:300]}") from None


def keras_to_savedmodel(keras_path: str | Path, loaded: keras.Model | None = None) -> Artifact:
    """The Keras file exported as a SavedModel; `loaded` is that file already loaded (in safe mode), if at hand."""
    def export(out: Path) -> None:
        model = loaded if loaded is not None else load_keras(keras_path)
        try:
            model.export(str(out), verbose=False)
        except Exception as exc:
            raise ConversionError(f"Keras export to SavedModel failed: {one_line(exc)}") from None

    settings = {"tool": tool_versions("keras", "tensorflow", "tensorflow-cpu")}
    return cached(sha256_path(keras_path), "keras-export", settings, "saved_model", export)


def tflite_convert(saved_model: str | Path, parent_sha: str, pass_name: str, settings: dict[str, Any],
                   configure: Callable[[Any, Any], None] | None = None,
                   describe: Callable[[Path], list[str]] | None = None, label: str | None = None) -> Artifact:
    """TFLiteConverter on a SavedModel, cached: `configure(converter, tf)` sets a pass's options and
    `describe(tflite_path)` returns its notes for the record."""
    def convert(out: Path) -> list[str] | None:
        _quiet_tf()
        import tensorflow as tf

        from edgebench.optimizers.errors import converter_error
        try:
            converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model))
            if configure is not None:
                configure(converter, tf)
            blob = converter.convert()
        except Exception as exc:
            raise ConversionError(f"{label or pass_name} failed: {converter_error(exc)}") from None
        out.write_bytes(blob)
        return describe(out) if describe else None

    settings = dict(settings, tool=tool_versions("tensorflow", "tensorflow-cpu"))
    return cached(parent_sha, pass_name, settings, "model.tflite", convert)


def savedmodel_to_tflite(saved_model: str | Path, parent_sha: str, settings: dict[str, Any] | None = None) -> Artifact:
    return tflite_convert(saved_model, parent_sha, "tflite-convert", settings or {}, label="TFLite conversion")


def _tf2onnx(args: list[str], out: Path) -> None:
    """tf2onnx's command line: in this process inside the converter child (which holds TensorFlow already, and whose
    crash or hang costs that child only), else in a child process of its own. Its log is collected, not printed."""
    argv = [*args, "--output", str(out), "--opset", str(DEFAULT_OPSET)]
    log = _tf2onnx_here(argv) if os.environ.get(IN_CONVERTER_CHILD) == "1" else _tf2onnx_child(argv)
    if not out.is_file():
        from edgebench.optimizers.converter_log import LoggedConversionError, no_paths
        cause = next((ln for ln in log if "rror" in ln), log[-1] if log else "it wrote no model")
        raise LoggedConversionError(f"tf2onnx failed: {no_paths(one_line(cause, 300))}", "\n".join(log))
    # tf2onnx may log unsupported ops and still write a model: name them; the load test then decides.
    unsupported = [ln.split("Unsupported ops:", 1)[1].strip() for ln in log if "Unsupported ops:" in ln]
    if unsupported:
        raise ConversionError(f"tf2onnx left operators ONNX lacks: {unsupported[0][:200]}")


def _tf2onnx_here(argv: list[str]) -> list[str]:
    _quiet_tf()
    import logging

    import tf2onnx.convert

    from edgebench.optimizers.tflite_custom_ops import register
    register()  # MediaPipe's custom ops (Convolution2DTransposeBias, ...) in a .tflite source
    log: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            log.append(record.getMessage())

    handler, logger, saved = Collect(logging.WARNING), logging.getLogger("tf2onnx"), sys.argv
    logger.addHandler(handler)
    sys.argv = ["tf2onnx.convert", *argv]
    try:
        tf2onnx.convert.main()
    except SystemExit as exc:  # its argument parser's way out
        raise ConversionError(f"tf2onnx refused its arguments (exit {exc.code})") from None
    except Exception as exc:
        raise ConversionError(f"tf2onnx failed: {one_line(exc, 300)}") from None
    finally:
        sys.argv = saved
        logger.removeHandler(handler)
    return log


def _tf2onnx_child(argv: list[str]) -> list[str]:
    import subprocess
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", TF_ENABLE_ONEDNN_OPTS="0")
    try:
        # tf2onnx's command line with edgebench's handlers for MediaPipe's custom ops registered first
        proc = subprocess.run([sys.executable, "-m", "edgebench.optimizers.tflite_custom_ops", *argv],
                              capture_output=True, text=True,
                              env=env, timeout=1800)
    except subprocess.TimeoutExpired:
        raise ConversionError("tf2onnx did not finish within 30 minutes") from None
    log = [ln.strip() for ln in (proc.stderr + proc.stdout).splitlines() if ln.strip()]
    if proc.returncode != 0:
        cause = next((ln for ln in reversed(log) if "rror" in ln), log[-1] if log else f"exit {proc.returncode}")
        raise ConversionError(f"tf2onnx failed: {one_line(cause, 300)}")
    return log


def _tf2onnx_artifact(flag: str, source: str | Path, parent_sha: str, pass_name: str) -> Artifact:
    settings = {"opset": DEFAULT_OPSET, "tool": tool_versions("tf2onnx", "onnx")}
    return cached(parent_sha, pass_name, settings, "model.onnx", lambda out: _tf2onnx([flag, str(source)], out))


def savedmodel_to_onnx(saved_model: str | Path, parent_sha: str) -> Artifact:
    return _tf2onnx_artifact("--saved-model", saved_model, parent_sha, "tf2onnx-savedmodel")


def tflite_to_onnx(tflite_path: str | Path, parent_sha: str) -> Artifact:
    """tf2onnx's TFLite path; sparse weights (which tf2onnx misreads) are made dense first, and MediaPipe's custom
    ops get their options in the form tf2onnx reads (edgebench.optimizers.tflite_custom_ops)."""
    from edgebench.optimizers.tflite_custom_ops import custom_ops, options_as_flexbuffers
    from edgebench.optimizers.tflite_densify import densify, sparse_tensors

    def make(out: Path) -> list[str]:
        src, notes, scratch = Path(tflite_path), [], []
        if sparse_tensors(src):
            scratch.append(out.with_name("densified.tflite"))
            try:
                count = densify(src, scratch[-1])
            except ValueError as exc:
                raise ConversionError(f"cannot densify the sparse weights: {one_line(exc)}") from None
            src = scratch[-1]
            notes.append(f"{count} sparse weight tensor(s) made dense (DENSIFY ops removed) before tf2onnx")
        found = custom_ops(src)
        if found:
            scratch.append(out.with_name("custom-options.tflite"))
            options_as_flexbuffers(src, scratch[-1])
            src = scratch[-1]
            notes.append(f"MediaPipe custom op(s) converted by edgebench's tf2onnx handlers: "
                         f"{', '.join(sorted(set(found)))} ({len(found)} node(s))")
        _tf2onnx(["--tflite", str(src)], out)
        for f in scratch:
            f.unlink()
        return notes

    settings = {"opset": DEFAULT_OPSET, "tool": tool_versions("tf2onnx", "onnx"), "custom_ops": 1}
    return cached(parent_sha, "tf2onnx-tflite", settings, "model.onnx", make)
