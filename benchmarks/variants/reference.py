"""Reference outputs: the source model run in its own framework (Keras / TensorFlow) on the evaluation inputs."""
from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

from edgebench.benchmarks.variants.sources import ModelSource


def natural_key(name: str) -> list[Any]:
    """output_2 before output_10: a SavedModel signature's outputs in the model's order."""
    import re
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]


def normalize_name(name: str) -> str:
    n = name.lower()
    if n.startswith("serving_default_"):
        n = n[len("serving_default_"):]
    return n.split(":")[0]


def align(reference_names: list[str], variant_names: list[str]) -> list[int]:
    """For each variant input, the index of the reference input it matches (by name, else by position)."""
    ref = [normalize_name(n) for n in reference_names]
    var = [normalize_name(n) for n in variant_names]
    if sorted(ref) == sorted(var) and len(set(ref)) == len(ref):
        return [ref.index(v) for v in var]
    return list(range(len(variant_names)))


def keras_io(source: ModelSource) -> tuple[Any, list[dict[str, Any]]]:
    """(model, input specs) for a Keras source; loaded in safe mode."""
    from edgebench.optimizers.convert import load_keras
    model = load_keras(source.path)
    specs = [{"name": t.name, "shape": [-1 if d is None else int(d) for d in t.shape], "dtype": str(t.dtype)}
             for t in model.inputs]
    return model, specs


def savedmodel_io(source: ModelSource) -> tuple[Any, list[dict[str, Any]]]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf
    loaded = tf.saved_model.load(str(source.path))
    if "serving_default" not in loaded.signatures:
        from edgebench.results.errors import UserError
        raise UserError(f"{source.path} has no serving_default signature; export it with one")
    fn = loaded.signatures["serving_default"]
    sig = fn.structured_input_signature[1]
    names = sorted(sig)
    specs = [{"name": n, "shape": [-1 if d is None else int(d) for d in sig[n].shape], "dtype": sig[n].dtype.name}
             for n in names]
    return (loaded, fn), specs


def output_names(source: ModelSource, handle: Any) -> list[str]:
    """The source model's names of its outputs, in the order reference_outputs returns them."""
    if source.format == "keras":
        return [str(n) for n in getattr(handle, "output_names", None) or []]
    _, fn = handle
    return sorted(fn.structured_outputs, key=natural_key)


def reference_outputs(source: ModelSource, handle: Any, specs: list[dict[str, Any]], inputs: list[np.ndarray],
                      batch: int = 64, axes: list[int | None] | None = None) -> list[np.ndarray]:
    """The source model's outputs on every sample, in batches. A Keras model runs as one traced graph; should its
    inputs not fit the trace (a fixed batch size, another dtype), it runs eagerly as Keras would."""
    if source.format != "keras":
        _, fn = handle
        return _in_batches(lambda xs: _named(fn(**{s["name"]: x for s, x in zip(specs, xs)})), inputs, batch, axes)
    def eager(xs: list[np.ndarray]) -> list[Any]:
        return _listed(handle(xs if len(xs) > 1 else xs[0], training=False))
    traced = _traced(handle)
    if traced is not None:
        try:
            return _in_batches(traced, inputs, batch, axes)
        except Exception:  # the eager call below says what is wrong, if anything is
            pass
    return _in_batches(eager, inputs, batch, axes)


def _traced(model: Any) -> Callable[[list[np.ndarray]], list[Any]] | None:
    """The Keras model as one tf.function. Called eagerly, a CNN spends more time in Python than in its kernels;
    traced, the same outputs (to 1e-5) come several times sooner (figures: docs/PERFORMANCE.md)."""
    import tensorflow as tf
    try:
        signature = [tf.TensorSpec(tuple(t.shape), t.dtype) for t in model.inputs]
    except Exception:
        return None
    fn = tf.function(lambda *xs: model(list(xs) if len(xs) > 1 else xs[0], training=False),
                     input_signature=signature, autograph=False)
    return lambda xs: _listed(fn(*xs))


def _listed(y: Any) -> list[Any]:
    return list(y.values()) if isinstance(y, dict) else list(y) if isinstance(y, (list, tuple)) else [y]


def _named(out: dict[str, Any]) -> list[Any]:
    return [out[k] for k in sorted(out, key=natural_key)]


def _in_batches(call: Callable[[list[np.ndarray]], list[Any]], inputs: list[np.ndarray], batch: int,
                axes: list[int | None] | None) -> list[np.ndarray]:
    from edgebench.benchmarks.isolation.npzio import sample_count, take_samples
    axes = axes or [0] * len(inputs)
    n = sample_count(inputs, axes)
    chunks = [[np.asarray(v) for v in call(take_samples(inputs, axes, start, min(start + batch, n)))]
              for start in range(0, n, batch)]
    return [np.concatenate([c[k] for c in chunks]) for k in range(len(chunks[0]))]
