"""Run a model file over a data set in its runtime, in a child process: the load test and the accuracy outputs.

`python -m edgebench.benchmarks.measure.evaluate --runtime R --model M --inputs IN.npz --outputs OUT.npz` runs every sample at batch 1
and prints one JSON line (input/output specs, mean seconds per inference). With --describe it only loads the model.
With --specs it reads the input specs even when the model cannot run (an operator the runtime lacks), so that the
run can go on and the variants that need that operator fail on their own.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

OUTPUT_PREFIX = "out_"  # the outputs file's arrays: out_0, out_1, ... in the model's output order


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runtime", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--settings", default="{}")
    ap.add_argument("--inputs")
    ap.add_argument("--outputs")
    ap.add_argument("--describe", action="store_true")
    ap.add_argument("--specs", action="store_true")
    args = ap.parse_args()

    from edgebench.benchmarks.isolation import faults
    from edgebench.benchmarks.isolation.childguard import report_result
    from edgebench.benchmarks.isolation.npzio import read_arrays, read_axes, sample_count, take_samples, write_arrays
    from edgebench.benchmarks.measure.runtimes import open_runtime

    if args.specs:
        report_result(_specs(args.runtime, args.model))
        return
    # the accuracy stage names its inputs file after the variant: faults can target one variant
    where = [args.runtime, Path(args.inputs or "").name.split(".")[0]]
    faults.inject("evaluate", where)
    session = open_runtime(args.runtime, args.model, 1, json.loads(args.settings))
    info: dict[str, Any] = {"inputs": session.input_specs(), "outputs": session.output_specs()}
    if not args.describe:
        inputs = read_arrays(args.inputs)
        axes = read_axes(args.inputs, len(inputs))
        n = sample_count(inputs, axes)
        collected: list[list[np.ndarray]] = []
        elapsed = 0.0
        for i in range(n):
            session.prepare(take_samples(inputs, axes, i, i + 1))
            t0 = time.perf_counter()
            session.invoke()
            elapsed += time.perf_counter() - t0
            collected.append(session.outputs())
        outs = [_join([c[k] for c in collected]) for k in range(len(collected[0]))]
        if len(outs) > 1 and faults.perturbing("evaluate", where):
            outs[1] = outs[1] + np.float32(0.5) * np.abs(outs[1]).max() * np.sign(np.sin(np.arange(outs[1].size))
                                                                                   ).reshape(outs[1].shape)
        write_arrays(args.outputs, outs, prefix=OUTPUT_PREFIX)
        info["seconds_per_inference"] = elapsed / max(n, 1)
        info["samples"] = n
    report_result(info)


def _join(parts: list[np.ndarray]) -> np.ndarray:
    """One output over every sample: along axis 0 when each sample's has batch 1 there (the usual case), else a new
    leading axis (a state [2, 1, 128] whose batch axis is 1), the same for every runtime whatever its layout."""
    if parts[0].ndim and all(p.shape[:1] == (1,) for p in parts):
        return np.concatenate(parts)
    return np.stack(parts)


def _specs(runtime: str, model: str) -> dict[str, Any]:
    from edgebench.benchmarks.measure.runtimes import open_runtime
    from edgebench.results.errors import one_line
    try:
        session = open_runtime(runtime, model, 1, {})
        return {"inputs": session.input_specs(), "outputs": session.output_specs()}
    except Exception as exc:
        load_error = one_line(exc, None)
    specs = _litert_specs(model) if runtime == "litert" else _onnx_specs(model)
    return {"inputs": specs, "outputs": [], "load_error": load_error}


def _litert_specs(model: str) -> list[dict]:
    # LiteRT builds the graph before it resolves kernels: the tensors are readable without allocate_tensors().
    from ai_edge_litert import interpreter as litert
    interp = litert.Interpreter(model_path=model)
    return [{"name": d["name"], "shape": [int(s) for s in d["shape_signature"]], "dtype": np.dtype(d["dtype"]).name,
             "quantization": list(d.get("quantization", (0.0, 0)))} for d in interp.get_input_details()]


def _onnx_specs(model: str) -> list[dict]:
    # The graph's declared inputs, when ONNX Runtime cannot build a session (an operator it lacks).
    import onnx
    from onnx.helper import tensor_dtype_to_np_dtype
    graph = onnx.load(model, load_external_data=False).graph
    weights = {t.name for t in graph.initializer}
    return [{"name": i.name, "shape": [d.dim_value if d.HasField("dim_value") else -1
                                       for d in i.type.tensor_type.shape.dim],
             "dtype": np.dtype(tensor_dtype_to_np_dtype(i.type.tensor_type.elem_type)).name,
             "dim_names": [d.dim_param or None for d in i.type.tensor_type.shape.dim]}
            for i in graph.input if i.name not in weights]


if __name__ == "__main__":
    from edgebench.benchmarks.isolation.childguard import run_guarded
    run_guarded(main)
