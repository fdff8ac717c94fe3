"""The recommended variant per run (profile and host) and runtime: the fastest within the accuracy budget."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from edgebench.reports.fields import batch_of, is_ok, is_screened, median_ms, threads_of, within_budget

RUNTIME_ORDER = ("litert", "onnxruntime")


@dataclass(frozen=True)
class Recommendation:
    runtime: str  # "litert", "onnxruntime", or "*" for the best over every runtime of the run
    record: dict[str, Any] | None  # None: nothing this runtime measured qualifies
    reason: str


def runtimes(records: Sequence[dict[str, Any]]) -> list[str]:
    seen = [str(r.get("runtime")) for r in records if r.get("runtime") is not None]
    known = [rt for rt in RUNTIME_ORDER if rt in seen]
    return known + sorted(set(seen) - set(known))


def fastest(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    # Latency at different batch sizes is not comparable: rank the smallest batch measured (batch 1 as a rule),
    # ties broken by fewer threads, which leaves cores for the rest of the application.
    smallest = min(batch_of(r) for r in records)
    same_batch = [r for r in records if batch_of(r) == smallest]
    return min(same_batch, key=lambda r: (median_ms(r), threads_of(r)))


def pick(records: Sequence[dict[str, Any]], runtime: str = "*") -> Recommendation:
    """The fastest measured record within the accuracy budget among `records`.

    Records with screening figures only never win when records measured in full exist: the run screened them
    because they could not win, or because the profile did not ask for their setting's latency.
    """
    measured = [r for r in records if is_ok(r)]
    measured = [r for r in measured if not is_screened(r)] or measured
    if not measured:
        failed = len(records)
        return Recommendation(runtime, None, f"nothing measured ({failed} record{'s' * (failed != 1)} failed)"
                              if failed else "nothing measured")
    in_budget = [r for r in measured if within_budget(r) is True]
    if in_budget:
        return Recommendation(runtime, fastest(in_budget), "fastest median latency within the accuracy budget")
    unchecked = [r for r in measured if within_budget(r) is None]
    if unchecked:
        # No reference output to check against: still name the fastest, but never as if its accuracy were known.
        return Recommendation(runtime, fastest(unchecked), "fastest median latency; accuracy NOT checked")
    return Recommendation(runtime, None, f"every measured variant ({len(measured)}) breaks the accuracy budget")


def recommend(records: Sequence[dict[str, Any]]) -> list[Recommendation]:
    """One recommendation per runtime, then the best over all runtimes (runtime "*")."""
    out = [pick([r for r in records if str(r.get("runtime")) == rt], rt) for rt in runtimes(records)]
    out.append(pick(records, "*"))
    return out

