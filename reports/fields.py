"""Tolerant field access for result records: fields may be missing, null, NaN or of a newer shape.

Other parts of edgebench add fields and variants over time; readers go through these helpers so that an unknown
or absent field shows as "-" instead of breaking a report.
"""
from __future__ import annotations

import math
from typing import Any

from edgebench.results.record import Record

# Accuracy metrics in the order a report prefers them: a task metric on labelled data beats agreement with the
# reference, which beats output similarity (available for every model, but weakest for a decision).
ACCURACY_METRICS: tuple[tuple[str, str], ...] = (
    ("top1_accuracy", "top-1 accuracy"),
    ("top1_agreement", "top-1 agreement with the reference"),
    ("cosine", "cosine similarity to the reference"),
)


def num(value: Any) -> float | None:
    """A finite float, or None for anything else (None, NaN, strings, bools)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def dig(rec: Any, *keys: str) -> Any:
    """rec[k1][k2]... or None when any level is missing or not a mapping."""
    cur = rec
    for k in keys:
        if not isinstance(cur, dict):
            return None
        cur = cur.get(k)
    return cur


def dig_num(rec: Any, *keys: str) -> float | None:
    return num(dig(rec, *keys))


def text(value: Any, default: str = "") -> str:
    return default if value is None else str(value)










def budget_violations(rec: Record) -> list[str]:
    v = dig(rec, "accuracy_budget", "violations")
    return [str(x) for x in v] if isinstance(v, list) else []


def record_warnings(rec: Record) -> list[str]:
    w = rec.get("warnings")
    if isinstance(w, list):
        return [str(x) for x in w]
    return [str(w)] if w else []


def accuracy_metric(groups: list[list[Record]]) -> tuple[str, str] | None:
    """The most decision-relevant accuracy metric that every group (run) with accuracy figures has.

    One chart axis serves every run, so a metric only some runs have (top-1 accuracy needs labels) would drop the
    others; when no metric is common to all, the first one any run has is used.
    """
    def has(records: list[Record], key: str) -> bool:
        return any(dig_num(r, "accuracy", key) is not None for r in records)

    measured = [g for g in groups if any(has(g, k) for k, _ in ACCURACY_METRICS)]
    for key, label in ACCURACY_METRICS:
        if measured and all(has(g, key) for g in measured):
            return key, label
    for key, label in ACCURACY_METRICS:
        if any(has(g, key) for g in measured):
            return key, label
    return None


def fmt(value: Any, spec: str = ".4g") -> str:
    v = num(value)
    return "-" if v is None else format(v, spec)


def timed_on(doc: dict[str, Any]) -> dict[str, Any]:
    """The machine a run's timings come from: the cluster node its records name (bench run --cluster), else the
    machine that ran it."""
    for rec in doc.get("results", []):
        where = rec.get("measured_on") if isinstance(rec, dict) else None
        if isinstance(where, dict) and where.get("node_ip"):
            return dict(where, cpu_model=f"{where.get('cpu_model', '?')}, cluster node {where['node_ip']}")
    host = doc.get("host")
    return host if isinstance(host, dict) else {}
