"""After measuring: mark the fastest quantization candidate within the accuracy budget, per runtime configuration.

The decision (reports.decision) picks the best record of a run overall; this marks, among the quantized variants a
profile asked for, the one to deploy if you quantize, and says how it compares with fp32 under the same settings.
Both take their rules from results.selection.
"""
from __future__ import annotations

import math

from edgebench.results.record import Record, record_key
from edgebench.results.selection import BASELINES, is_screened, within_budget
from edgebench.results.selection import median_or_inf as _median


def _screened(r: Record) -> str:
    """Said beside a figure that comes from a screening run (a setting whose latency the profile did not ask for)."""
    return "; screening figures only" if is_screened(r) else ""


def _vs_base(r: Record, base: Record | None) -> str:
    if base is None or _median(base) == math.inf:
        return ""
    return f" = {_median(r) / _median(base):.2f}x {base['variant']}"


def mark_recommended(records: list[Record], groups: dict[str, str], group: str = "quantized") -> list[str]:
    """Sets `recommended` on every record (True on the winners) and returns one note per (runtime, threads, batch).

    A candidate counts only when it was measured and its accuracy was checked and stayed within the budget: an
    unknown accuracy is not a pass.
    """
    notes = []

    def key(r: Record) -> tuple[str, int, int, str]:
        return record_key(r).configuration()

    keys = sorted({key(r) for r in records})
    for rec in records:
        rec["recommended"] = False
    for runtime, threads, batch, label in keys:
        same = [r for r in records if key(r) == (runtime, threads, batch, label)]
        cands = [r for r in same if groups.get(r["variant"]) == group and r.get("status") == "ok" and _median(r) < math.inf]
        if not cands:
            continue
        within = [r for r in cands if within_budget(r) is True]
        where = f"{runtime} t{threads}" + (f" b{batch}" if batch != 1 else "") + (f" [{label}]" if label else "")
        base = next((r for r in same if r["variant"] == BASELINES.get(runtime) and r.get("status") == "ok"), None)

        if within:
            best = min(within, key=_median)
            best["recommended"] = True
            slower = base is not None and _median(best) >= _median(base)
            notes.append(f"{where}: recommended quantized variant {best['variant']} "
                         f"({_median(best):.3f} ms{_vs_base(best, base)}; fastest of {len(cands)} within the accuracy budget"
                         f"{_screened(best)}"
                         + ("; no faster than fp32 here, so fp32 is the better deployment)" if slower else ")"))
        else:
            fastest = min(cands, key=_median)
            notes.append(f"{where}: no quantized variant stays within the accuracy budget; the fastest, "
                         f"{fastest['variant']} ({_median(fastest):.3f} ms{_vs_base(fastest, base)}), breaks it")
    return notes
