"""What an output is (its kind) and the figures that fit it, for one output of a variant against the reference.

Raw-output cosine alone misleads: the cosine of two 1-element vectors is +1, -1 or undefined, so an exact conversion
of a presence score near 0 averaged 0.625 (FIELD-NOTES, "Accuracy metrics"). Every output therefore gets figures
that mean something for any shape: SQNR in dB over all samples (as ONNX Runtime's qdq_loss_debug reports it), max
and mean abs error relative to the reference's range. Cosine is added only where a sample has enough elements, and
each kind adds the figure its users judge it by: top-1 for class scores, agreement of the decision at a threshold
for scores, IoU of the thresholded mask for masks.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

KINDS = ("class-scores", "score", "regression", "landmarks", "embedding", "mask")
# Fewer elements per sample than this and a per-sample cosine is mostly sign noise: it is not computed.
MIN_COSINE_ELEMENTS = 8
# Words in an output's name that say it carries class scores (`logits`, `class_probs`, `cls_head`, `softmax`).
CLASS_WORDS = ("class", "logit", "prob", "cls", "softmax", "label")
_NAME_KINDS = (("mask", ("mask", "seg")), ("landmarks", ("landmark", "keypoint", "kpt", "pose")),
               ("regression", ("box", "bbox", "coord", "regress", "offset", "depth")),
               ("score", ("score", "presence", "conf", "handedness", "flag")),
               ("embedding", ("embed", "feature", "hidden", "pool", "vector")))
# The figure each kind is judged by (the budget's key names it too): a key of the per-output dict.
JUDGED_BY = {"class-scores": "top1_agreement", "score": "score_agreement", "regression": "mean_rel_error",
             "landmarks": "mean_rel_error", "embedding": "cosine", "mask": "mask_iou"}
METRIC_LABELS = {"top1_agreement": "top-1 agreement", "score_agreement": "score agreement",
                 "mean_rel_error": "mean abs error / range", "cosine": "cosine", "mask_iou": "mask IoU",
                 "sqnr_db": "SQNR dB", "max_rel_error": "max abs error / range"}


def per_sample(y: np.ndarray) -> int:
    """Elements in one sample of an output (axis 0 is the samples)."""
    return int(np.prod(y.shape[1:])) if y.ndim >= 1 else 1


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


def infer_kind(y: np.ndarray, name: str | None, only_output: bool) -> str:
    """Class scores as before (shape and name); one element per sample is a score; else the name's word; else an
    embedding when a sample has enough elements for cosine, a regression when it has a few."""
    if looks_like_class_scores(y, name, only_output):
        return "class-scores"
    if per_sample(y) == 1:
        return "score"
    low = (name or "").lower()
    for kind, words in _NAME_KINDS:
        if any(w in low for w in words):
            return kind
    return "embedding" if per_sample(y) >= MIN_COSINE_ELEMENTS else "regression"


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a.reshape(len(a), -1).astype(np.float64)
    b = b.reshape(len(b), -1).astype(np.float64)
    num = (a * b).sum(axis=1)
    den = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    both_zero = den == 0
    return np.where(both_zero, np.where(np.abs(a - b).max(axis=1) == 0, 1.0, 0.0), num / np.where(both_zero, 1, den))


def threshold_for(r: np.ndarray) -> float:
    """0.5 for probabilities; 0 for logits (values outside [0, 1]), which is 0.5 after a sigmoid."""
    return 0.5 if r.size and float(r.min()) >= 0.0 and float(r.max()) <= 1.0 else 0.0


def _error_figures(r: np.ndarray, g: np.ndarray) -> dict[str, Any]:
    """SQNR over all samples, abs errors, and the same relative to the reference's range (its magnitude when the
    reference is constant). `exact_scale` is the range or the magnitude, whichever is larger: what an exact
    conversion's rounding is small against."""
    rf, gf = r.astype(np.float64).ravel(), g.astype(np.float64).ravel()
    diff = np.abs(rf - gf)
    out: dict[str, Any] = {"max_abs_error": float(diff.max()) if diff.size else 0.0,
                           "mean_abs_error": float(diff.mean()) if diff.size else 0.0}
    span = float(rf.max() - rf.min()) if rf.size else 0.0
    peak = float(np.abs(rf).max()) if rf.size else 0.0
    scale = span or peak
    out["reference_range"] = span
    if scale > 0:
        out["max_rel_error"] = out["max_abs_error"] / scale
        out["mean_rel_error"] = out["mean_abs_error"] / scale
    else:
        out["max_rel_error"] = out["mean_rel_error"] = 0.0 if out["max_abs_error"] == 0 else math.inf
    noise, signal = float((diff ** 2).sum()), float((rf ** 2).sum())
    if noise == 0:
        out["identical"] = True  # SQNR is infinite: left out (JSON has no infinity)
    elif signal > 0:
        out["sqnr_db"] = 10 * math.log10(signal / noise)
    out["exact_scale"] = max(span, peak)
    return out


def output_figures(name: str, r: np.ndarray, g: np.ndarray, kind: str, inferred: bool,
                   labels: np.ndarray | None) -> dict[str, Any]:
    """Every figure of one output (see the module's docstring); `metric` names the one its kind is judged by."""
    if r.size != g.size:
        raise ValueError(f"output {name!r} shape differs: reference {r.shape}, variant {g.shape}")
    g = g.reshape(r.shape)
    out: dict[str, Any] = {"name": name, "kind": kind, "kind_inferred": inferred}
    out.update(_error_figures(r, g))
    if r.ndim == 0 or len(r) == 0:
        out["metric"] = "max_rel_error"
        return out
    if per_sample(r) >= MIN_COSINE_ELEMENTS or kind == "class-scores":
        cos = _cosines(r, g)
        out["cosine"], out["cosine_min"] = float(cos.mean()), float(cos.min())
    if kind == "class-scores" and is_classifier_output(r):
        out["top1_agreement"] = float((r.argmax(1) == g.argmax(1)).mean())
        if labels is not None and len(labels) == len(g) and labels.ndim == 1 and labels.max(initial=0) < r.shape[1]:
            out["top1_accuracy"] = float((g.argmax(1) == labels).mean())
    elif kind in ("score", "mask"):
        thr = threshold_for(r)
        # a decision's scale is the unit one of its threshold: rounding of a score near 0 is not a change
        out["exact_scale"] = max(out["exact_scale"], 1.0)
        a, b = r.ravel() > thr, g.ravel() > thr
        out["threshold"] = thr
        if kind == "score":
            out["score_agreement"] = float((a == b).mean())
        else:
            union = int((a | b).sum())
            out["mask_iou"] = float((a & b).sum() / union) if union else 1.0
    metric = JUDGED_BY.get(kind, "mean_rel_error")
    # a kind whose figure could not be computed here (cosine of a 3-element "embedding") is judged by its error
    out["metric"] = metric if metric in out else "mean_rel_error"
    return out
