"""Tolerant field access for result records: fields may be missing, null, NaN or of a newer shape.

Other parts of edgebench add fields and variants over time; readers go through these helpers so that an unknown
or absent field shows as "-" instead of breaking a report.
"""
from __future__ import annotations

import math
from typing import Any

# Accuracy metrics in the order a report prefers them: a task metric on labelled data beats agreement with the
# reference, which beats output similarity (available for every model, but weakest for a decision).
ACCURACY_METRICS: tuple[tuple[str, str], ...] = (
    ("top1_accuracy", "top-1 accuracy"),
    ("top1_agreement", "top-1 agreement with the reference"),
    ("cosine", "cosine similarity to the reference"),
)

RUNTIME_NAMES = {"litert": "LiteRT", "onnxruntime": "ONNX Runtime"}


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


def median_ms(rec: dict[str, Any]) -> float | None:
    return dig_num(rec, "latency_ms", "median")


def is_ok(rec: dict[str, Any]) -> bool:
    return rec.get("status") == "ok" and median_ms(rec) is not None


def is_screened(rec: dict[str, Any]) -> bool:
    """Measured by a short screening run only (it could not win, or its setting's latency was not asked for)."""
    return dig(rec, "measurement", "method") == "screened"


def int_or(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def threads_of(rec: dict[str, Any]) -> int:
    return int_or(rec.get("threads"), 0)


def batch_of(rec: dict[str, Any]) -> int:
    return int_or(rec.get("batch"), 1)


def runtime_name(runtime: Any) -> str:
    return RUNTIME_NAMES.get(str(runtime), text(runtime, "?"))


def within_budget(rec: dict[str, Any]) -> bool | None:
    """True/False from the record's accuracy budget, None when accuracy was not checked."""
    budget = rec.get("accuracy_budget")
    if not isinstance(budget, dict) or not isinstance(budget.get("ok"), bool):
        return None
    return budget["ok"]


def budget_violations(rec: dict[str, Any]) -> list[str]:
    v = dig(rec, "accuracy_budget", "violations")
    return [str(x) for x in v] if isinstance(v, list) else []


def record_warnings(rec: dict[str, Any]) -> list[str]:
    w = rec.get("warnings")
    if isinstance(w, list):
        return [str(x) for x in w]
    return [str(w)] if w else []


def accuracy_metric(groups: list[list[dict[str, Any]]]) -> tuple[str, str] | None:
    """The most decision-relevant accuracy metric that every group (run) with accuracy figures has.

    One chart axis serves every run, so a metric only some runs have (top-1 accuracy needs labels) would drop the
    others; when no metric is common to all, the first one any run has is used.
    """
    def has(records: list[dict[str, Any]], key: str) -> bool:
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
