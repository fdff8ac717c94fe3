"""One small interface per runtime. Importing this package imports no runtime: `open_runtime` imports the one asked for."""
from __future__ import annotations

from typing import Any, Protocol

import numpy as np


class Session(Protocol):
    """A loaded model ready to run, inputs and outputs in the model's own order: what the measuring children call."""

    def input_specs(self) -> list[dict[str, Any]]: ...

    def output_specs(self) -> list[dict[str, Any]]: ...

    def prepare(self, inputs: list[np.ndarray]) -> None:
        """Hand the inputs to the runtime, outside any timed region."""

    def invoke(self) -> None:
        """One inference on the prepared inputs: the call that is timed."""

    def outputs(self) -> list[np.ndarray]: ...


def import_runtime(name: str) -> None:
    """Import the runtime module only (so a worker can measure its RSS before a model is loaded)."""
    if name == "litert":
        import ai_edge_litert.interpreter  # noqa: F401
    elif name == "onnxruntime":
        import onnxruntime  # noqa: F401
    else:
        raise ValueError(f"unknown runtime {name!r}")


def open_runtime(name: str, model_path: str, threads: int, settings: dict[str, Any] | None = None) -> Session:
    settings = settings or {}
    if name == "litert":
        from edgebench.benchmarks.measure.runtimes.litert import LiteRTSession
        return LiteRTSession(model_path, threads, settings)
    if name == "onnxruntime":
        from edgebench.benchmarks.measure.runtimes.ort import OrtSession
        return OrtSession(model_path, threads, settings)
    raise ValueError(f"unknown runtime {name!r}")


def effective_threading(name: str, threads: int, settings: dict[str, Any]) -> dict[str, Any]:
    """The threading a session of `name` really runs with, and where each value comes from, for the record.

    Mirrors what OrtSession / LiteRTSession set: a comparison is only fair if the reader can see that each runtime
    ran with its own defaults (or with what the profile chose instead).
    """
    if name == "onnxruntime":
        spinning = settings.get("intra_op_spinning")
        spin = "on (ONNX Runtime default)" if spinning is None else f"{'on' if spinning else 'off'} (profile)"
        return {"threads": threads, "inter_op_threads": 1, "execution_mode": "sequential", "intra_op_spinning": spin}
    if name == "litert":
        return {"threads": threads, "xnnpack": bool(settings.get("xnnpack", True))}
    raise ValueError(f"unknown runtime {name!r}")
