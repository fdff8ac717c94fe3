"""The selection policy: which records compete, which may win, and when two of them cannot be told apart.

The run (which variants it measures in full, which quantized variant it recommends), the reports (the decision)
and `bench size` (what to size) must choose by the same rules, or the run would spend its time on records the
report never picks. So each rule is written once, here, below both, and reads only the typed record. Where callers
need different rules the functions have different names (`is_screened` vs `has_screening_figures`, `is_baseline`
vs `always_measured_in_full`): no caller gets a variant of a rule by passing a flag.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from edgebench.results.record import IntervalKey, Record

# The fp32 variant each runtime's speed-up, size and accuracy cost are measured against.
BASELINES: dict[str, str] = {"litert": "tflite-fp32", "onnxruntime": "onnx-fp32"}

# A screened record whose optimistic figure is within 5% of the best median can still win: it is measured in full.
SCREEN_MARGIN = 0.05


# --- accessors: tolerant, since reports also read records written by older versions ------------------------------

def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _int_or(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def threads_of(rec: Mapping[str, Any]) -> int:
    return _int_or(rec.get("threads"), 0)


def batch_of(rec: Mapping[str, Any]) -> int:
    return _int_or(rec.get("batch"), 1)


def median_ms(rec: Mapping[str, Any] | None) -> float | None:
    """The median latency (ms) when it is a finite number, else None."""
    lat = rec.get("latency_ms") if rec is not None else None
    return _number(lat.get("median")) if isinstance(lat, dict) else None


def median_or_inf(rec: Record) -> float:
    """The median latency (ms), or infinity when it has none, so that it never wins."""
    med = median_ms(rec)
    return math.inf if med is None else med


def interval(rec: Mapping[str, Any] | None, key: IntervalKey) -> tuple[float, float] | None:
    """latency_ms[key] as (low, high), or None when absent or malformed (records written before schema 1.1)."""
    lat = rec.get("latency_ms") if rec is not None else None
    value = lat.get(key) if isinstance(lat, dict) else None
    if not isinstance(value, list) or len(value) != 2:
        return None
    low, high = _number(value[0]), _number(value[1])
    return (low, high) if low is not None and high is not None and low <= high else None


def median_ci_or_point(rec: Record) -> tuple[float, float]:
    """The median's 95% CI, or the median itself as a zero-width interval when the record has no CI."""
    return interval(rec, "median_ci") or (median_or_inf(rec), median_or_inf(rec))


# --- what a record is ----------------------------------------------------------------------------------------------

def is_baseline(rec: Mapping[str, Any]) -> bool:
    """The fp32 variant its runtime's ratios are taken against."""
    return BASELINES.get(str(rec.get("runtime"))) == rec.get("variant")


def always_measured_in_full(variant: str, runtime: str, artifact_pass: str | None) -> bool:
    """The fp32 baseline of its runtime, or the user's own .tflite / .onnx file as it is: every ratio of the
    report is taken against these, so the run never leaves them with screening figures."""
    return BASELINES.get(runtime) == variant or artifact_pass == "source"


def is_ok(rec: Mapping[str, Any]) -> bool:
    """Measured, with a median latency."""
    return rec.get("status") == "ok" and median_ms(rec) is not None


def is_screened(rec: Mapping[str, Any]) -> bool:
    """Measured by a short screening run only (it could not win, or its setting's latency was not asked for)."""
    m = rec.get("measurement")
    return isinstance(m, dict) and m.get("method") == "screened"


def has_screening_figures(rec: Record) -> bool:
    """Measured, and by a screening run only: a record the run may still measure in full."""
    return rec.get("status") == "ok" and is_screened(rec)


def within_budget(rec: Mapping[str, Any] | None) -> bool | None:
    """True/False from the record's accuracy budget, None when accuracy was not checked (an unknown accuracy is
    not a pass: callers that need a pass ask `is True`)."""
    budget = rec.get("accuracy_budget") if rec is not None else None
    if not isinstance(budget, dict) or not isinstance(budget.get("ok"), bool):
        return None
    return bool(budget["ok"])


# --- which records compete -----------------------------------------------------------------------------------------

def fully_measured(records: Iterable[Record]) -> list[Record]:
    """The measured records, without those with screening figures only when any was measured in full: a screening
    figure never beats a full measurement (the run screened it because it could not win)."""
    ok = [r for r in records if is_ok(r)]
    return [r for r in ok if not is_screened(r)] or ok


def eligible(records: Iterable[Record]) -> list[Record]:
    """The records a pick may choose while the run is measuring: within the accuracy budget, else (when no
    accuracy is known at all) the unchecked ones."""
    ok = [r for r in records if r.get("status") == "ok" and median_or_inf(r) < math.inf]
    within = [r for r in ok if within_budget(r) is True]
    return within or [r for r in ok if r.get("accuracy_budget") is None]


def fastest(records: Sequence[Record]) -> Record:
    """The fastest median of the smallest batch measured, ties broken by fewer threads.

    Latency at different batch sizes is not comparable, so the smallest batch (batch 1 as a rule) is ranked; fewer
    threads leave cores for the rest of the application.
    """
    smallest = min(batch_of(r) for r in records)
    same_batch = [r for r in records if batch_of(r) == smallest]
    return min(same_batch, key=lambda r: (median_or_inf(r), threads_of(r)))


# --- when two records cannot be told apart, and when one can still win ---------------------------------------------

def overlaps(a: tuple[float, float] | None, b: tuple[float, float] | None) -> bool:
    """Both intervals are known and share a point: the two medians are within each other's noise."""
    return a is not None and b is not None and a[0] <= b[1] and b[0] <= a[1]


def tied(a: Record | None, b: Record | None) -> bool:
    """The two records' 95% CIs of the median overlap; a record without one never makes a tie."""
    return overlaps(interval(a, "median_ci"), interval(b, "median_ci"))


def optimistic_ms(rec: Record) -> float:
    """A record's optimistic figure: the low end of its median CI or, for a screening, of its processes' medians
    (two processes give a CI that leaves out how much processes disagree)."""
    low = median_ci_or_point(rec)[0]
    m = rec.get("measurement")
    medians = (m.get("process_medians_ms") or []) if m and m.get("method") == "screened" else []
    return min([low, *medians])


def can_still_win(rec: Record, best: Record) -> bool:
    """Whether `rec` might be as fast as `best`: its optimistic figure is within the margin of the best median."""
    return optimistic_ms(rec) <= median_or_inf(best) * (1 + SCREEN_MARGIN)


def lies_above(ci: Sequence[float], best: Record) -> bool:
    """A median CI wholly above `best`'s: however many more samples it gets, it cannot beat `best`."""
    return ci[0] > median_ci_or_point(best)[1]


# --- whether two runs' records may be compared (`bench compare`) ---------------------------------------------------

def process_medians(rec: Mapping[str, Any]) -> list[float]:
    """Each worker process's median (ms) as the record keeps it; [] for records written before it was kept."""
    m = rec.get("measurement")
    values = m.get("process_medians_ms") if isinstance(m, dict) else None
    return [v for v in (_number(x) for x in values) if v is not None] if isinstance(values, list) else []


def why_not_compared(a: Mapping[str, Any], b: Mapping[str, Any]) -> str | None:
    """Why two records of the same key in two runs are not tested against each other, or None when they may be: a
    screening (one or two short processes) is never called slower or faster than anything."""
    if not (is_ok(a) and is_ok(b)):
        return "not comparable: failed"
    if is_screened(a) or is_screened(b):
        return "not compared: screened"
    return None


# --- what the decision optimises: the median (throughput-like use) or the p99 (a latency SLO) ---------------------

OBJECTIVES = ("median", "p99")


def objective_ms(rec: Mapping[str, Any], objective: str) -> float:
    """The record's figure for the objective (ms), infinity when it has none, so that it never wins."""
    if objective == "p99":
        lat = rec.get("latency_ms")
        value = _number(lat.get("p99")) if isinstance(lat, dict) else None
        return math.inf if value is None else value
    med = median_ms(rec)
    return math.inf if med is None else med


def fastest_by(records: Sequence[Record], objective: str) -> Record:
    """`fastest` for the median; for the p99 the lowest p99 of the smallest batch, ties broken by the median and
    then fewer threads."""
    if objective != "p99":
        return fastest(records)
    smallest = min(batch_of(r) for r in records)
    same_batch = [r for r in records if batch_of(r) == smallest]
    return min(same_batch, key=lambda r: (objective_ms(r, "p99"), median_or_inf(r), threads_of(r)))


def tied_by(a: Record | None, b: Record | None, objective: str) -> bool:
    """`tied` on the objective's 95% CIs (the p99's for "p99")."""
    key: IntervalKey = "p99_ci" if objective == "p99" else "median_ci"
    return overlaps(interval(a, key), interval(b, key))
