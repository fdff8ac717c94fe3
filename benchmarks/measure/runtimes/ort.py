"""ONNX Runtime, CPU execution provider, behind the Session interface."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import onnxruntime as ort

_LEVELS = {"disable": "ORT_DISABLE_ALL", "basic": "ORT_ENABLE_BASIC", "extended": "ORT_ENABLE_EXTENDED",
           "layout": "ORT_ENABLE_LAYOUT", "all": "ORT_ENABLE_ALL"}
_NP_TYPES = {"tensor(float)": "float32", "tensor(float16)": "float16", "tensor(double)": "float64",
             "tensor(int8)": "int8", "tensor(uint8)": "uint8", "tensor(int32)": "int32", "tensor(int64)": "int64",
             "tensor(bool)": "bool"}


def session_options(threads: int, settings: dict[str, Any]) -> ort.SessionOptions:
    """ONNX Runtime's session options for `threads` intra-op threads and the profile's settings."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    level = settings.get("graph_optimization_level", "all")
    so.graph_optimization_level = getattr(ort.GraphOptimizationLevel, _LEVELS.get(level, "ORT_ENABLE_ALL"),
                                          ort.GraphOptimizationLevel.ORT_ENABLE_ALL)
    spinning = settings.get("intra_op_spinning")
    if spinning is not None:  # a profile that does not say keeps ONNX Runtime's own default (spinning on)
        spin = "1" if spinning else "0"
        so.add_session_config_entry("session.intra_op.allow_spinning", spin)
        so.add_session_config_entry("session.inter_op.allow_spinning", spin)
    so.enable_cpu_mem_arena = bool(settings.get("enable_cpu_mem_arena", True))
    so.log_severity_level = 3
    return so


class OrtSession:
    def __init__(self, model_path: str, threads: int, settings: dict[str, Any]) -> None:
        import onnxruntime as ort

        self._sess = ort.InferenceSession(model_path, sess_options=session_options(threads, settings),
                                          providers=["CPUExecutionProvider"])
        self._inputs = self._sess.get_inputs()
        self._outputs = self._sess.get_outputs()
        self._feed: dict[str, np.ndarray] = {}

    def input_specs(self) -> list[dict[str, Any]]:
        # dim_names: the model's names of its symbolic dimensions (`batch`, `sequence`), so errors can name them
        return [{"name": i.name, "shape": [d if isinstance(d, int) else -1 for d in i.shape],
                 "dtype": _NP_TYPES.get(i.type, i.type),
                 "dim_names": [d if isinstance(d, str) and d else None for d in i.shape]} for i in self._inputs]

    def output_specs(self) -> list[dict[str, Any]]:
        return [{"name": o.name, "shape": [d if isinstance(d, int) else -1 for d in o.shape],
                 "dtype": _NP_TYPES.get(o.type, o.type)} for o in self._outputs]

    def prepare(self, inputs: list[np.ndarray]) -> None:
        self._feed = {i.name: _contiguous(x.astype(_NP_TYPES.get(i.type, "float32"), copy=False))
                      for i, x in zip(self._inputs, inputs)}

    def invoke(self) -> None:
        self._last = self._sess.run(None, self._feed)

    def outputs(self) -> list[np.ndarray]:
        return [np.asarray(y) for y in self._last]


def _contiguous(x: np.ndarray) -> np.ndarray:
    # np.ascontiguousarray makes a rank-0 input (a sample rate) rank 1, which the model would refuse
    return x if x.flags.c_contiguous else np.ascontiguousarray(x)
