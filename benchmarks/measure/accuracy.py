"""Accuracy of a variant's outputs against the reference outputs on the same inputs (pure numpy), output by output.

A face-landmark model returns landmarks and a presence score, a detector boxes and scores: every output is compared
(max abs error, cosine per sample) and the accuracy budget applies to each. Top-1 agreement is computed only for
outputs that look like class scores; on a regression output it would mean nothing. The record's top-level figures
are those of the worst output, so the table shows it; `outputs` keeps them all.
"""
from __future__ import annotations

from typing import Any

import numpy as np

# Words in an output's name that say it carries class scores (`logits`, `class_probs`, `cls_head`, `softmax`).
CLASS_WORDS = ("class", "logit", "prob", "cls", "softmax", "label")


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a.reshape(len(a), -1).astype(np.float64)
    b = b.reshape(len(b), -1).astype(np.float64)
    num = (a * b).sum(axis=1)
    den = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    both_zero = den == 0
    return np.where(both_zero, np.where(np.abs(a - b).max(axis=1) == 0, 1.0, 0.0), num / np.where(both_zero, 1, den))


def is_classifier_output(y: np.ndarray) -> bool:
    return y.ndim == 2 and y.shape[1] > 1


def looks_like_class_scores(y: np.ndarray, name: str | None, only_output: bool) -> bool:
    """[samples, classes] and either the model's only output, named like class scores, or rows that are probability
    distributions (softmax). Two regression targets ([samples, 2]) alongside other outputs are not class scores."""
    if not is_classifier_output(y):
        return False
    if only_output or any(w in (name or "").lower() for w in CLASS_WORDS):
        return True
    if y.dtype.kind != "f" or not len(y):
        return False
    return bool(np.all(y >= 0) and np.allclose(y.sum(axis=1), 1.0, atol=1e-3))


def normalize_name(name: str) -> str:
    """An output's name without a runtime's decoration (`serving_default_`, `:0`)."""
    n = name.lower()
    n = n[len("serving_default_"):] if n.startswith("serving_default_") else n
    return n.split(":")[0]


def align_outputs(reference_names: list[str] | None, variant_names: list[str] | None) -> list[int]:
    """For each reference output, the index of the variant output it matches (by name, else by position)."""
    if reference_names and variant_names and len(reference_names) == len(variant_names):
        ref = [normalize_name(n) for n in reference_names]
        var = [normalize_name(n) for n in variant_names]
        if sorted(ref) == sorted(var) and len(set(ref)) == len(ref):
            return [var.index(r) for r in ref]
    return list(range(len(reference_names or variant_names or [])))


def _one_output(name: str, r: np.ndarray, g: np.ndarray, labels: np.ndarray | None,
                class_scores: bool) -> dict[str, Any]:
    if r.size != g.size:
        raise ValueError(f"output {name!r} shape differs: reference {r.shape}, variant {g.shape}")
    g = g.reshape(r.shape)
    out: dict[str, Any] = {"name": name}
    diff = np.abs(r.astype(np.float64).ravel() - g.astype(np.float64).ravel())
    out["max_abs_error"] = float(diff.max()) if diff.size else 0.0
    if r.ndim == 0 or len(r) == 0:
        out["cosine"] = out["cosine_min"] = 1.0 if out["max_abs_error"] == 0 else 0.0
        return out
    cos = _cosines(r, g)
    out["cosine"] = float(cos.mean())
    out["cosine_min"] = float(cos.min())
    if class_scores:
        out["top1_agreement"] = float((r.argmax(1) == g.argmax(1)).mean())
        if labels is not None and len(labels) == len(g) and labels.ndim == 1 and labels.max(initial=0) < r.shape[1]:
            out["top1_accuracy"] = float((g.argmax(1) == labels).mean())
    return out


def compare_outputs(reference: list[np.ndarray], got: list[np.ndarray], labels: np.ndarray | None = None,
                    names: list[str] | None = None) -> dict[str, Any]:
    """Per output (in `outputs`): max abs error, cosine (mean and worst sample), top-1 agreement for class scores and
    top-1 accuracy against the labels. Top level: the worst output's figures (max error, lowest cosine, lowest
    agreement), `worst_output` its name, and the labels' accuracy on the first class-score output."""
    if len(reference) != len(got):
        raise ValueError(f"output count differs: reference {len(reference)}, variant {len(got)}")
    names = list(names) if names and len(names) == len(reference) else [f"output_{i}" for i in range(len(reference))]
    per = [_one_output(n, r, g, labels, looks_like_class_scores(r, n, len(reference) == 1))
           for n, r, g in zip(names, reference, got)]
    worst = min(per, key=lambda o: (o.get("top1_agreement", 1.0), o["cosine"], -o["max_abs_error"]))
    metrics: dict[str, Any] = {"max_abs_error": max(o["max_abs_error"] for o in per),
                               "cosine": min(o["cosine"] for o in per),
                               "cosine_min": min(o["cosine_min"] for o in per)}
    agreements = [o["top1_agreement"] for o in per if "top1_agreement" in o]
    if agreements:
        metrics["top1_agreement"] = min(agreements)
    task = next((o for o in per if "top1_accuracy" in o), None)
    if task is not None:
        metrics["top1_accuracy"] = task["top1_accuracy"]
    metrics["samples"] = int(len(reference[0])) if reference[0].ndim else 1
    if len(per) > 1:
        metrics["worst_output"] = worst["name"]
        metrics["outputs"] = per
    return metrics


def budget_violations(metrics: dict[str, Any], min_top1_agreement: float, min_cosine: float) -> list[str]:
    """Every output over the budget, named when the model has several."""
    out = []
    for o in metrics.get("outputs") or [metrics]:
        where = f"output {o['name']!r}: " if "name" in o else ""
        if "top1_agreement" in o and o["top1_agreement"] < min_top1_agreement:
            out.append(f"{where}top-1 agreement {o['top1_agreement']:.3f} < {min_top1_agreement}")
        if o.get("cosine", 1.0) < min_cosine:
            out.append(f"{where}cosine {o['cosine']:.4f} < {min_cosine}")
    return out
