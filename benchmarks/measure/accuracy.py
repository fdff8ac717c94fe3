"""Accuracy of a variant's outputs against the reference outputs on the same inputs (pure numpy)."""
from __future__ import annotations

from typing import Any

import numpy as np


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a.reshape(len(a), -1).astype(np.float64)
    b = b.reshape(len(b), -1).astype(np.float64)
    num = (a * b).sum(axis=1)
    den = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    both_zero = den == 0
    return np.where(both_zero, np.where(np.abs(a - b).max(axis=1) == 0, 1.0, 0.0), num / np.where(both_zero, 1, den))


def is_classifier_output(y: np.ndarray) -> bool:
    return y.ndim == 2 and y.shape[1] > 1


def compare_outputs(reference: list[np.ndarray], got: list[np.ndarray], labels: np.ndarray | None = None) -> dict[str, Any]:
    """max abs error over every output; cosine (mean and worst per sample) and top-1 on the first output."""
    if len(reference) != len(got):
        raise ValueError(f"output count differs: reference {len(reference)}, variant {len(got)}")
    metrics: dict[str, Any] = {}
    max_err = 0.0
    for r, g in zip(reference, got):
        if r.size != g.size:
            raise ValueError(f"output shape differs: reference {r.shape}, variant {g.shape}")
        max_err = max(max_err, float(np.max(np.abs(r.astype(np.float64).ravel() - g.astype(np.float64).ravel()))))
    metrics["max_abs_error"] = max_err
    r0, g0 = reference[0], got[0].reshape(reference[0].shape)
    cos = _cosines(r0, g0)
    metrics["cosine"] = float(cos.mean())
    metrics["cosine_min"] = float(cos.min())
    if is_classifier_output(r0):
        metrics["top1_agreement"] = float((r0.argmax(1) == g0.argmax(1)).mean())
        if labels is not None and len(labels) == len(g0):
            metrics["top1_accuracy"] = float((g0.argmax(1) == labels).mean())
    metrics["samples"] = int(len(r0))
    return metrics


def budget_violations(metrics: dict[str, Any], min_top1_agreement: float, min_cosine: float) -> list[str]:
    out = []
    if "top1_agreement" in metrics and metrics["top1_agreement"] < min_top1_agreement:
        out.append(f"top-1 agreement {metrics['top1_agreement']:.3f} < {min_top1_agreement}")
    if metrics.get("cosine", 1.0) < min_cosine:
        out.append(f"cosine {metrics['cosine']:.4f} < {min_cosine}")
    return out
