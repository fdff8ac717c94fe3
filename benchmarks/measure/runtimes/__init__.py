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
