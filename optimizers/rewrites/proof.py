"""The proof of a rewrite: the rewritten model's outputs against the source's, per output, on the run's evaluation
inputs, both run by ONNX Runtime with the same settings and the same batches.

An output passes when it is bit-identical, or when its largest difference is within `rtol` of its largest magnitude
(max|rewritten - source| <= rtol * max|source|) with NaNs in the same places. Checking equivalence is not
measuring: no time is taken here."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import onnx

    from edgebench.optimizers.calibration import CalibrationSet

RTOL = 1e-6
BATCH = 16  # samples per inference when the model's batch dimension is free


@dataclass(frozen=True)
class OutputProof:
    output: str
    bit_identical: bool
    max_abs_diff: float
    rel_diff: float  # max_abs_diff / max |source|
    ok: bool


def run_outputs(model: onnx.ModelProto, data: CalibrationSet) -> dict[str, np.ndarray]:
    """Every graph output of `model` on every sample of `data`, batched as the model allows."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1  # one thread: the same kernels, the same order, run after run
    so.log_severity_level = 3
    sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    first = sess.get_inputs()[0].shape
    fixed = bool(first) and isinstance(first[0], int) and first[0] > 0
    step = first[0] if fixed else BATCH
    arrays, total = data.arrays, -(-data.samples // step) * step if fixed else data.samples
    if total != data.samples:  # a fixed batch size: the last batch is completed with the first samples again
        arrays = {k: np.resize(v, (total, *v.shape[1:])) for k, v in arrays.items()}
    names = [o.name for o in sess.get_outputs()]
    parts: dict[str, list[np.ndarray]] = {n: [] for n in names}
    for start in range(0, total, step):
        feed = {k: np.ascontiguousarray(v[start:start + step]) for k, v in arrays.items()}
        for name, value in zip(names, sess.run(None, feed)):
            parts[name].append(np.asarray(value))
    return {n: np.concatenate(v) if v[0].ndim else np.stack(v) for n, v in parts.items()}


def compare(source: dict[str, np.ndarray], rewritten: dict[str, np.ndarray], rtol: float = RTOL) -> list[OutputProof]:
    out = []
    for name, ref in source.items():
        got = rewritten.get(name)
        if got is None or got.shape != ref.shape or got.dtype != ref.dtype:
            out.append(OutputProof(name, False, float("inf"), float("inf"), False))
            continue
        same = bool(np.array_equal(got, ref, equal_nan=ref.dtype.kind in "fc"))
        if same or ref.dtype.kind not in "fc":
            out.append(OutputProof(name, same, 0.0 if same else float("inf"), 0.0 if same else float("inf"), same))
            continue
        nan_ok = bool(np.array_equal(np.isnan(got), np.isnan(ref)))
        finite = np.isfinite(ref) & np.isfinite(got)
        diff = float(np.max(np.abs(got[finite].astype(np.float64) - ref[finite]), initial=0.0))
        scale = float(np.max(np.abs(ref[finite]), initial=0.0))
        rel = diff / scale if scale else (0.0 if diff == 0 else float("inf"))
        inf_ok = bool(np.array_equal(got[~np.isfinite(ref)], ref[~np.isfinite(ref)], equal_nan=True))
        out.append(OutputProof(name, False, diff, rel, nan_ok and inf_ok and rel <= rtol))
    return out


def _finite(value: Any) -> Any:
    """JSON has no infinity: an output that could not be compared says null."""
    return value if not isinstance(value, float) or np.isfinite(value) else None


def summary(proofs: list[OutputProof], samples: int) -> dict[str, Any]:
    worst = max((p.rel_diff for p in proofs), default=0.0)
    return {"ok": all(p.ok for p in proofs), "samples": samples, "bit_identical": all(p.bit_identical for p in proofs),
            "max_rel_diff": _finite(worst),
            "outputs": [{k: _finite(v) for k, v in asdict(p).items()} for p in proofs]}


def in_words(proof: dict[str, Any], rtol: float = RTOL) -> str:
    n = len(proof["outputs"])
    if proof["bit_identical"]:
        return f"bit-identical on {proof['samples']} evaluation samples ({n} output{'s' * (n != 1)})"
    verdict = "within" if proof["ok"] else "NOT within"
    return (f"{verdict} {rtol:g} relative on {proof['samples']} evaluation samples (largest difference "
            f"{proof['max_rel_diff'] if proof['max_rel_diff'] is not None else float('inf'):.2g} of the output's range, {n} output{'s' * (n != 1)})")
