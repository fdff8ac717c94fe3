"""The golden test vector: one fixed input per model input and this machine's onnxruntime outputs for it, with a
tolerance taken from our measured agreement, as JSON the .NET side can assert against ("it gives our numbers")."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from edgebench.results.contract import write_text_atomic

MAX_VALUES = 1 << 20  # larger inputs would make a JSON file of many megabytes: left out, said in the card
DEFAULT_TOLERANCE = 1e-4


def tolerance(accuracy: dict[str, Any] | None) -> dict[str, Any]:
    """Twice the variant's measured max abs error against the reference outputs (LiteRT/TensorFlow), else 1e-4."""
    err = (accuracy or {}).get("max_abs_error")
    if isinstance(err, (int, float)) and err == err:
        return {"abs": max(2 * float(err), 1e-6), "source": f"2 x the measured max abs error vs the reference "
                f"outputs ({float(err):.3g})"}
    return {"abs": DEFAULT_TOLERANCE, "source": "default (no measured agreement for this variant)"}


def write_golden(model: Path, inputs: list[dict[str, Any]], accuracy: dict[str, Any] | None,
                 dest: Path, shapes: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """Write dest (JSON) and return what the card says about it; a model this machine's onnxruntime cannot run on
    the card's inputs gets a note instead of a file (never an exception: the card still gets written)."""
    try:
        return _write_golden(model, inputs, accuracy, dest, shapes)
    except Exception as exc:  # noqa: BLE001 (onnxruntime's Fail/InvalidArgument and friends)
        from edgebench.results.errors import one_line
        return {"file": None, "note": f"no golden vector: this machine's onnxruntime could not run the model on "
                f"the card's inputs ({type(exc).__name__}: {one_line(exc, 200)}); pass --input-shape or --data"}


def _write_golden(model: Path, inputs: list[dict[str, Any]], accuracy: dict[str, Any] | None,
                  dest: Path, shapes: dict[str, dict[str, Any]] | None) -> dict[str, Any]:
    import numpy as np
    import onnxruntime as ort

    from edgebench.benchmarks.card.loadtest import make_inputs

    sizes = [int(np.prod((shapes or {}).get(t["name"], {}).get("shape") or
                         [d if isinstance(d, int) and d > 0 else 1 for d in t["shape"]])) for t in inputs]
    if sum(sizes) > MAX_VALUES:
        return {"file": None, "note": f"inputs hold {sum(sizes)} values: no golden vector written (limit {MAX_VALUES})"}
    with tempfile.TemporaryDirectory() as tmp:
        make_inputs(inputs, Path(tmp) / "in.npz", seed=1234, shapes=shapes)
        with np.load(Path(tmp) / "in.npz", allow_pickle=False) as z:
            feed = {k: z[k] for k in z.files}
    sess = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    outs = sess.run(names, feed)
    tol = tolerance(accuracy)
    doc = {"model": model.name, "onnxruntime": ort.__version__, "tolerance": tol,
           "inputs": {k: {"dtype": str(v.dtype), "shape": list(v.shape), "data": v.ravel().tolist()}
                      for k, v in feed.items()},
           "outputs": {n: {"dtype": str(v.dtype), "shape": list(v.shape), "data": np.asarray(v).ravel().tolist()}
                       for n, v in zip(names, outs)},
           "inputs_are": "seeded uniform random values in [-1, 1] (integers 0-7 for integer inputs), already "
                         "pre-processed: feed them to the model as they are"}
    write_text_atomic(dest, json.dumps(doc))
    return {"file": dest.name, "tolerance": tol, "onnxruntime": ort.__version__}
