"""onnx2tf writes a 3-5-D output channel-last (NCHW [1,6,12,12] becomes [1,12,12,6]) and has no option to keep the
ONNX layout of outputs: the SavedModel is wrapped so that each such output is transposed back, and the TFLite
variants answer in the layout of the ONNX source (the accuracy check and the user's code then compare like with like).
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any


def _key(name: str) -> str:
    return re.sub(r"\W", "_", name.lower().split(":")[0])


def _channel_last_perm(onnx_shape: list[int], tf_shape: list[int]) -> list[int] | None:
    """The permutation that turns the converted (channel-last) output back into the ONNX layout, when that is what
    happened: same rank, ONNX [N, C, *S] and converted [N, *S, C] with the two differing (-1: a symbolic dim)."""
    rank = len(onnx_shape)
    if rank < 3 or rank != len(tf_shape) or onnx_shape == tf_shape:
        return None
    if tf_shape != [onnx_shape[0], *onnx_shape[2:], onnx_shape[1]]:
        return None
    return [0, rank - 1, *range(1, rank - 1)]


def restore_output_layout(saved_model: Path, onnx_outputs: dict[str, list[int]]) -> list[str]:
    """Rewrite `saved_model` (serving_default) so outputs come in the ONNX layout; returns the names transposed."""
    import tensorflow as tf

    loaded = tf.saved_model.load(str(saved_model))
    sig = loaded.signatures["serving_default"]
    wanted = {_key(n): s for n, s in onnx_outputs.items()}
    outs = sig.structured_outputs
    if not all(_key(n) in wanted for n in outs):  # onnx2tf may name them output_0, output_1, ... in ONNX order
        ordered = sorted(outs, key=lambda n: (len(n), n))
        wanted = {_key(n): s for n, s in zip(ordered, onnx_outputs.values())} if len(ordered) == len(wanted) else {}
    perms: dict[str, list[int]] = {}
    for name, spec in outs.items():
        shape = wanted.get(_key(name))
        perm = _channel_last_perm(shape, [-1 if d is None else d for d in spec.shape]) if shape else None
        if perm:
            perms[name] = perm
    if not perms:
        return []
    specs = {k: tf.TensorSpec(v.shape, v.dtype, name=k) for k, v in sig.structured_input_signature[1].items()}

    class Restored(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = loaded

        @tf.function(input_signature=[specs])
        def serve(self, inputs: dict[str, Any]) -> dict[str, Any]:
            outs = sig(**inputs)
            return {k: tf.transpose(v, perms[k]) if k in perms else v for k, v in outs.items()}

    module = Restored()
    fn = module.serve.get_concrete_function()
    kw_fn = tf.function(lambda **kw: fn(kw), input_signature=None)
    tmp = saved_model.with_name(saved_model.name + ".layout")
    tf.saved_model.save(module, str(tmp), signatures={"serving_default": kw_fn.get_concrete_function(**specs)})
    shutil.rmtree(saved_model)
    tmp.rename(saved_model)
    return sorted(perms)
