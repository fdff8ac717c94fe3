"""Which records a run measures in full, and why the others keep their screening figures.

Most variants of a profile lose clearly, and a short screening tells that apart; measuring them to a tight median
would spend most of the run on records that cannot change the answer. So every variant is screened, and measured
in full only when it can still win (results.selection: the pick's own rules): per runtime and batch, the fastest
eligible record, and every record whose optimistic figure comes within SCREEN_MARGIN of that best median. A
runtime's pick is chosen across its thread counts and settings, so a record that cannot beat the runtime's best at
another thread count cannot win either. A margin rather than an overlap of CIs, because where worker processes
disagree (a shared machine) honest CIs are wide and an overlap test would send nearly everything to a full
measurement. The same is done among the quantized variants alone, whose winner the run recommends. The fp32
baselines (and a .tflite/.onnx source as it is) are always measured in full: every ratio is taken against them.

Selection is repeated after the full measurements: if a full measurement comes out slower than a screened record
that was left out, that record can now win and is measured in full too, so no decision rests on screening figures.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

from edgebench.benchmarks.variants.specs import QUANTIZED
from edgebench.results.record import Latency, Record, RecordKey, record_key
from edgebench.results.selection import (
    SCREEN_MARGIN,
    can_still_win,
    eligible,
    has_screening_figures,
    lies_above,
    median_ci_or_point,
    median_or_inf,
    optimistic_ms,
    within_budget,
)

# A screening whose fastest process takes at least this many times the best median of every pool it is in gets no
# second screening round: a neighbour's burst slows a process by tens of percent on a shared VM, not by half
CLEARLY_OUT = 2.0
PENDING = "screened; whether it can still win is decided once every variant is screened"


def sweep_reason(label: str | None) -> str:
    return (f"{label}: the profile asks for the latency of the first runtime setting only ([benchmark] "
            "sweep_latency = \"first\"); its memory and cold-start figures are complete, its latency is a screening")


def _shown(rec: Record) -> str:
    low, high = median_ci_or_point(rec)
    return f"{median_or_inf(rec):.3f} ms (95% CI {low:.3f}-{high:.3f})"


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
        chosen = eligible(same)
        pools += [chosen, [r for r in chosen if groups.get(r["variant"]) == QUANTIZED]]
    return [p for p in pools if p]


def contenders(records: list[Record], groups: dict[str, str], asked: Callable[[Record], bool]) -> dict[RecordKey, str]:
    """The screened records that can still win, each with the reason it is measured in full."""
    out: dict[RecordKey, str] = {}
    for pool in _pools(records, groups, asked):
        best = min(pool, key=median_or_inf)
        for r in pool:
            if not has_screening_figures(r) or record_key(r) in out:
                continue
            if r is best:
                out[record_key(r)] = f"fastest at screening: {_shown(r)}"
            elif can_still_win(r, best):
                out[record_key(r)] = (f"can still win: screening median {_shown(r)}, fastest process at "
                                      f"{optimistic_ms(r):.3f} ms, vs best {_shown(best)} ({best['variant']})")
    return out


def clearly_out(rec: Record, records: list[Record], groups: dict[str, str], asked: Callable[[Record], bool]) -> bool:
    """Whether one screening process already settles that `rec` cannot be a pick: it is in no pool (over the accuracy
    budget), or in each of its pools its fastest process takes CLEARLY_OUT x the pool's best median or more."""
    pools = [p for p in _pools(records, groups, asked) if any(r is rec for r in p)]
    return all(optimistic_ms(rec) >= CLEARLY_OUT * min(median_or_inf(r) for r in pool) for pool in pools)


def final_reason(rec: Record, records: list[Record], asked: Callable[[Record], bool]) -> str:
    """Why a record kept its screening figures, once the selection is over."""
    if not asked(rec):
        return sweep_reason(rec.get("settings_label"))
    budget = rec.get("accuracy_budget")
    if budget is not None and within_budget(rec) is False:
        return "over the accuracy budget: " + "; ".join(budget.get("violations") or [])
    pool = eligible([r for r in records if asked(r) and _race(r) == _race(rec)])
    if not any(r is rec for r in pool):
        return "accuracy not checked while other variants are within the accuracy budget"
    best = min(pool, key=median_or_inf)
    return (f"cannot win: screening median {_shown(rec)}, fastest process at {optimistic_ms(rec):.3f} ms, vs best "
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
        full = [r for r in pool if not has_screening_figures(r) and record_key(r) != key and r["variant"] != key.variant]
        if not full:
            return None
        best = min(full, key=median_or_inf)
        if not lies_above(ci, best):
            return None
        why = why or (f"cannot win: stopped once its median CI {ci[0]:.3f}-{ci[1]:.3f} ms lay above {best['variant']}'s "
                      f"{_shown(best)}")
    return why
