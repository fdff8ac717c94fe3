"""Which records a run measures in full, and why the others keep their screening figures.

Most variants of a profile lose clearly: a 2-process screening tells that apart in a second, and measuring them to
a +/-1% median would spend most of the run on records that cannot change the answer. So every variant is screened,
and measured in full only when it can still win: per runtime (and batch), the fastest record within the accuracy
budget, and every record whose optimistic figure (the low end of its median CI, or its fastest worker process) comes
within SCREEN_MARGIN of that best median. A runtime's pick is chosen across its thread counts and settings
(reports/decision.py), so a record that cannot beat the runtime's best at another thread count cannot win either:
on the default model, the 1-thread rows of the int8 variants (1.5x the 2-thread ones) keep their screening figures.
Where CIs are narrower than the margin this is the overlap of the two CIs; where processes disagree (on a shared VM, by 5-30%, so honest CIs are wide) an
overlap test would send nearly everything to a full measurement, and the margin is what separates. The same is done
among the quantized variants alone, whose winner the run recommends. The fp32 baselines (and a .tflite/.onnx source
as it is) are always measured in full: every ratio in the report is taken against them.

Selection is repeated after the full measurements: if a full measurement comes out slower than a screened record
that was left out, that record can now win and is measured in full too, so no decision rests on screening figures.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable

from edgebench.benchmarks.run.candidates import BASELINES
from edgebench.benchmarks.variants.specs import QUANTIZED
from edgebench.results.record import Latency, Record, RecordKey, record_key

SCREEN_MARGIN = 0.05  # a record whose optimistic figure is within 5% of the best median is measured in full
# A screening whose fastest process takes at least this many times the best median of every pool it is in gets no
# second screening round: a neighbour's burst slows a process by tens of percent on a shared VM, not by half
CLEARLY_OUT = 2.0
PENDING = "screened; whether it can still win is decided once every variant is screened"


def is_baseline(variant: str, runtime: str, artifact_pass: str | None) -> bool:
    """The fp32 reference of its runtime, or the user's own .tflite / .onnx file as it is."""
    return BASELINES.get(runtime) == variant or artifact_pass == "source"


def is_screened(rec: Record) -> bool:
    m = rec.get("measurement")
    return rec.get("status") == "ok" and isinstance(m, dict) and m.get("method") == "screened"


def sweep_reason(label: str | None) -> str:
    return (f"{label}: the profile asks for the latency of the first runtime setting only ([benchmark] "
            "sweep_latency = \"first\"); its memory and cold-start figures are complete, its latency is a screening")


def _median(rec: Record) -> float:
    lat = rec.get("latency_ms")
    med = lat.get("median") if lat else None
    return med if isinstance(med, (int, float)) and math.isfinite(med) else math.inf


def _ci(rec: Record) -> tuple[float, float]:
    lat = rec.get("latency_ms")
    ci = lat.get("median_ci") if lat else None
    return (ci[0], ci[1]) if ci else (_median(rec), _median(rec))


def _low(rec: Record) -> float:
    """A record's optimistic figure: the low end of its median CI or, for a screening, of its processes' medians
    (two processes give a CI that leaves out how much processes disagree)."""
    low = _ci(rec)[0]
    m = rec.get("measurement")
    medians = (m.get("process_medians_ms") or []) if m and m.get("method") == "screened" else []
    return min([low, *medians])


def _shown(rec: Record) -> str:
    low, high = _ci(rec)
    return f"{_median(rec):.3f} ms (95% CI {low:.3f}-{high:.3f})"


def can_still_win(rec: Record, best: Record) -> bool:
    """Whether `rec` might be as fast as `best`: its optimistic figure is within the margin of the best median."""
    return _low(rec) <= _median(best) * (1 + SCREEN_MARGIN)


def _eligible(same: list[Record]) -> list[Record]:
    """The records a pick may choose: within the accuracy budget, else (no accuracy known at all) the unchecked."""
    ok = [r for r in same if r.get("status") == "ok" and _median(r) < math.inf]
    within = [r for r in ok if (budget := r.get("accuracy_budget")) is not None and budget["ok"] is True]
    return within or [r for r in ok if r.get("accuracy_budget") is None]


def _race(rec: Record) -> tuple[str, int]:
    """What a record competes in: its runtime's pick at its batch, whatever the threads and settings."""
    key = record_key(rec)
    return key.runtime, key.batch


def _pools(records: Iterable[Record], groups: dict[str, str],
           asked: Callable[[Record], bool]) -> list[list[Record]]:
    """Per runtime and batch, over the settings whose latency is asked for: its eligible records, and its eligible
    quantized records."""
    by_race: dict[tuple[str, int], list[Record]] = {}
    for r in records:
        if asked(r):
            by_race.setdefault(_race(r), []).append(r)
    pools = []
    for same in by_race.values():
        eligible = _eligible(same)
        pools += [eligible, [r for r in eligible if groups.get(r["variant"]) == QUANTIZED]]
    return [p for p in pools if p]


def contenders(records: list[Record], groups: dict[str, str], asked: Callable[[Record], bool]) -> dict[RecordKey, str]:
    """The screened records that can still win, each with the reason it is measured in full."""
    out: dict[RecordKey, str] = {}
    for pool in _pools(records, groups, asked):
        best = min(pool, key=_median)
        for r in pool:
            if not is_screened(r) or record_key(r) in out:
                continue
            if r is best:
                out[record_key(r)] = f"fastest at screening: {_shown(r)}"
            elif can_still_win(r, best):
                out[record_key(r)] = (f"can still win: screening median {_shown(r)}, fastest process at "
                                      f"{_low(r):.3f} ms, vs best {_shown(best)} ({best['variant']})")
    return out


def clearly_out(rec: Record, records: list[Record], groups: dict[str, str], asked: Callable[[Record], bool]) -> bool:
    """Whether one screening process already settles that `rec` cannot be a pick: it is in no pool (over the accuracy
    budget), or in each of its pools its fastest process takes CLEARLY_OUT x the pool's best median or more."""
    pools = [p for p in _pools(records, groups, asked) if any(r is rec for r in p)]
    return all(_low(rec) >= CLEARLY_OUT * min(_median(r) for r in pool) for pool in pools)


def final_reason(rec: Record, records: list[Record], asked: Callable[[Record], bool]) -> str:
    """Why a record kept its screening figures, once the selection is over."""
    if not asked(rec):
        return sweep_reason(rec.get("settings_label"))
    budget = rec.get("accuracy_budget")
    if budget is not None and budget.get("ok") is False:
        return "over the accuracy budget: " + "; ".join(budget.get("violations") or [])
    eligible = _eligible([r for r in records if asked(r) and _race(r) == _race(rec)])
    if not any(r is rec for r in eligible):
        return "accuracy not checked while other variants are within the accuracy budget"
    best = min(eligible, key=_median)
    return (f"cannot win: screening median {_shown(rec)}, fastest process at {_low(rec):.3f} ms, vs best "
            f"{_shown(best)} ({best['variant']}, {best['threads']} thread{'s' * (best['threads'] != 1)}) + "
            f"{SCREEN_MARGIN:.0%}")


def cannot_win(key: RecordKey, lat: Latency, records: list[Record], groups: dict[str, str],
               asked: Callable[[Record], bool]) -> str | None:
    """Why the full measurement of contender `key` can stop now, or None to go on.

    It stops once its median's CI lies wholly above the CI of a fully measured record in every pool it belongs to:
    however many more processes it gets, it cannot be the pick of any of them.
    """
    ci = lat.get("median_ci")
    if not ci:
        return None
    why = None
    for pool in _pools(records, groups, asked):
        if not any(record_key(r) == key for r in pool):
            continue
        full = [r for r in pool if not is_screened(r) and record_key(r) != key and r["variant"] != key.variant]
        if not full:
            return None
        best = min(full, key=_median)
        if ci[0] <= _ci(best)[1]:
            return None
        why = why or (f"cannot win: stopped once its median CI {ci[0]:.3f}-{ci[1]:.3f} ms lay above {best['variant']}'s "
                      f"{_shown(best)}")
    return why
