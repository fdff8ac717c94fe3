"""LiteRT (the TFLite runtime, package ai-edge-litert) behind the Session interface."""
from __future__ import annotations

import re
from typing import Any

import numpy as np


class LiteRTSession:
    def __init__(self, model_path: str, threads: int, settings: dict[str, Any]) -> None:
        from ai_edge_litert import interpreter as litert

        resolver = (litert.OpResolverType.AUTO if settings.get("xnnpack", True)
                    else litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
        self._interp = litert.Interpreter(model_path=model_path, num_threads=threads,
                                          experimental_op_resolver_type=resolver)
        self._interp.allocate_tensors()
        self._inputs = self._interp.get_input_details()
        self._outputs = self._interp.get_output_details()
        self._output_keys = _signature_outputs(self._interp)
        self._order_outputs()

    def _order_outputs(self) -> None:
        # A converted SavedModel's outputs come in tensor order, not the model's: its signature keys (output_0,
        # output_1, ...) give the model's order back, so outputs line up with the source's and the ONNX files'.
        if self._output_keys and {d["index"] for d in self._outputs} == set(self._output_keys):
            self._outputs = sorted(self._outputs, key=lambda d: natural_key(self._output_keys[d["index"]]))

    def input_specs(self) -> list[dict[str, Any]]:
        return [{"name": d["name"], "shape": [int(s) for s in d["shape_signature"]],
                 "dtype": np.dtype(d["dtype"]).name, "quantization": list(d.get("quantization", (0.0, 0)))}
                for d in self._inputs]

    def output_specs(self) -> list[dict[str, Any]]:
        return [{"name": self._output_keys.get(d["index"], d["name"]), "shape": [int(s) for s in d["shape_signature"]],
                 "dtype": np.dtype(d["dtype"]).name} for d in self._outputs]

    def prepare(self, inputs: list[np.ndarray]) -> None:
        """Copy inputs into the interpreter (resizing for a new batch) outside any timed region."""
        resized = False
        for d, x in zip(self._inputs, inputs):  # every input of a new shape (a batch size, a state's batch axis)
            if list(d["shape"]) != list(x.shape):
                if all(int(s) >= 0 for s in d["shape_signature"]):
                    # A file converted with every dim fixed: XNNPACK's own "failed to reshape" would not say why
                    self._fixed = (f"input {d['name']!r} of this .tflite is fixed at {[int(s) for s in d['shape_signature']]} "
                                   f"and was asked for {list(x.shape)} (a file converted for batch 1 only: see its notes)")
                self._interp.resize_tensor_input(d["index"], list(x.shape))
                resized = True
        if resized:
            try:
                self._interp.allocate_tensors()
            except Exception as exc:
                raise self._explained(exc) from None
            self._inputs = self._interp.get_input_details()
            self._outputs = self._interp.get_output_details()
            self._order_outputs()
        for d, x in zip(self._inputs, inputs):
            self._interp.set_tensor(d["index"], _to_input_dtype(x, d))

    def invoke(self) -> None:
        try:
            self._interp.invoke()
        except Exception as exc:
            raise self._explained(exc) from None

    def _explained(self, exc: Exception) -> Exception:
        fixed = getattr(self, "_fixed", None)
        return RuntimeError(f"{fixed}: {str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}"
                            ) if fixed else exc

    def outputs(self) -> list[np.ndarray]:
        return [_from_output_dtype(self._interp.get_tensor(d["index"]), d) for d in self._outputs]


def natural_key(name: str) -> list[Any]:
    """output_2 before output_10."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]


def _signature_outputs(interp: Any) -> dict[int, str]:
    """Tensor index -> signature output key, for a model with exactly one signature (else empty)."""
    try:
        sigs = interp._get_full_signature_list()  # the public get_signature_list() has the keys but not the tensors
    except Exception:  # an interpreter without signature support: tensor names and order stay as they are
        return {}
    if not isinstance(sigs, dict) or len(sigs) != 1:
        return {}
    outputs = next(iter(sigs.values())).get("outputs") or {}
    return {int(index): str(key) for key, index in outputs.items()}


def _to_input_dtype(x: np.ndarray, detail: dict[str, Any]) -> np.ndarray:
    """Float data into an integer-I/O model goes through the input's own scale and zero point."""
    dtype = np.dtype(detail["dtype"])
    if dtype.kind in "iu" and x.dtype.kind == "f":
        scale, zero = detail.get("quantization", (0.0, 0))
        if scale:
            info = np.iinfo(dtype)
            return np.clip(np.round(x / scale + zero), info.min, info.max).astype(dtype)
    return x.astype(dtype, copy=False)


def _from_output_dtype(y: np.ndarray, detail: dict[str, Any]) -> np.ndarray:
    scale, zero = detail.get("quantization", (0.0, 0))
    if np.dtype(detail["dtype"]).kind in "iu" and scale:
        return (y.astype(np.float32) - zero) * scale
    return y.copy()
