"""Accuracy of a variant's outputs against the reference outputs on the same inputs (pure numpy), output by output.

A face-landmark model returns landmarks and a presence score, a detector boxes and scores: every output is compared
with figures that fit its kind (accuracy.output_kinds: SQNR and range-relative error for all, cosine where a sample
has enough elements, top-1 for class scores, decision agreement for scores, IoU for masks) and the budget judges
each by its kind's figure (hardware_profiles.accuracy_budget). An exact output never breaks it.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from edgebench.benchmarks.measure.output_kinds import (
    METRIC_LABELS,
    infer_kind,
    is_classifier_output,
    looks_like_class_scores,
    output_figures,
)
from edgebench.hardware_profiles.accuracy_budget import AccuracyBudget

__all__ = ["align_outputs", "budget_violations", "compare_outputs", "is_classifier_output", "looks_like_class_scores",
           "normalize_name"]


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


def _kind_of(name: str, r: np.ndarray, stated: dict[str, str], only_output: bool) -> tuple[str, bool]:
    """(kind, inferred): the user's word for the output (matched without a runtime's decoration), else inferred."""
    by_norm = {normalize_name(k): v for k, v in stated.items()}
    kind = by_norm.get(normalize_name(name))
    return (kind, False) if kind else (infer_kind(r, name, only_output), True)


def compare_outputs(reference: list[np.ndarray], got: list[np.ndarray], labels: np.ndarray | None = None,
                    names: list[str] | None = None, budget: AccuracyBudget | None = None) -> dict[str, Any]:
    """Per output (in `outputs` when there are several): its kind and figures (accuracy.output_kinds). Top level:
    the worst of each figure across outputs (max error, lowest cosine, lowest agreement), `worst_output` (the first
    over the budget, else the lowest SQNR), the labels' accuracy on the first class-score output; with one output its
    own figures."""
    if len(reference) != len(got):
        raise ValueError(f"output count differs: reference {len(reference)}, variant {len(got)}")
    budget = budget or AccuracyBudget()
    names = list(names) if names and len(names) == len(reference) else [f"output_{i}" for i in range(len(reference))]
    per = [output_figures(n, r, g, *_kind_of(n, r, budget.outputs, len(reference) == 1), labels)
           for n, r, g in zip(names, reference, got)]
    if len(per) == 1:
        metrics = {k: v for k, v in per[0].items() if k != "name"}
    else:
        metrics = {"max_abs_error": max(o["max_abs_error"] for o in per)}
        for key in ("cosine", "cosine_min", "top1_agreement"):
            values = [o[key] for o in per if key in o]
            if values:
                metrics[key] = min(values)
        task = next((o for o in per if "top1_accuracy" in o), None)
        if task is not None:
            metrics["top1_accuracy"] = task["top1_accuracy"]
        over = [o for o in per if _violations(o, budget)]
        worst = over[0] if over else min(per, key=lambda o: (-1e9 if "sqnr_db" not in o and not o.get("identical")
                                                            else o.get("sqnr_db", 1e9)))
        metrics["worst_output"] = worst["name"]
        metrics["outputs"] = per
    metrics["samples"] = int(len(reference[0])) if reference[0].ndim else 1
    return metrics


def _violations(o: dict[str, Any], budget: AccuracyBudget) -> list[str]:
    """One output's figures against the budget: its kind's figure (class scores: top-1 agreement and cosine, as
    before), unless the output is exact (max abs error within the budget's tolerance of its range)."""
    if "kind" not in o:  # a record written before output kinds: top-1 agreement and cosine, as then
        o = dict(o, kind="class-scores", metric="top1_agreement")
    elif o.get("max_abs_error", 0.0) <= budget.exact_tolerance * o.get("exact_scale", 0.0):
        return []
    where = f"output {o['name']!r} ({o['kind']}{', inferred' if o.get('kind_inferred') else ''}): " \
        if "name" in o else ""
    checks = [o["metric"]] + (["cosine"] if o["kind"] == "class-scores" else [])
    out = []
    for metric in checks:
        bound = budget.bound(metric)
        value = o.get(metric)
        if bound is None or value is None:
            continue
        limit, higher_better = bound
        if (value < limit) if higher_better else (value > limit):
            at = f" at threshold {o['threshold']:g}" if "threshold" in o else ""
            out.append(f"{where}{METRIC_LABELS.get(metric, metric)} {_fmt(metric, value)} "
                       f"{'<' if higher_better else '>'} {limit:g}{at}")
    return out


def _fmt(metric: str, value: float) -> str:
    return f"{value:.4f}" if metric in ("cosine", "mean_rel_error") else f"{value:.3f}"


def budget_violations(metrics: dict[str, Any], budget: AccuracyBudget | float,
                      min_cosine: float | None = None) -> list[str]:
    """Every output over the budget, named (with its kind) when the model has several. Two floats (min top-1
    agreement, min cosine) stand for a budget with those bounds and the other defaults."""
    if not isinstance(budget, AccuracyBudget):
        budget = AccuracyBudget(min_top1_agreement=float(budget),
                                min_cosine=float(min_cosine if min_cosine is not None else 0.99))
    return [v for o in metrics.get("outputs") or [metrics] for v in _violations(o, budget)]
