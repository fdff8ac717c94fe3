"""The decision a run supports: which variant to ship, overall and per runtime, and how sure the data make it.

Pure data from the records, by the rules of results.selection (the run screens by the same ones):
reports/terminal/screen.py and reports/html/decision.py present it. The pick is the fastest
median latency (at the smallest batch, at the thread count best for latency) among the measured records within the
profile's accuracy budget. A record whose accuracy was not checked is not eligible (an unknown accuracy is not a
pass) but is counted, so the presentation can mention it. When nothing is eligible the fastest measured record is
still shown, flagged, with the reason. Ties are judged on the records' 95% confidence intervals of the median, never
on the last digit; a record without one (written before 1.1) never makes a tie.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from edgebench.reports.fields import ACCURACY_METRICS, dig_num, num
from edgebench.results.ratios import RoundRatio, paired_ratio
from edgebench.results.record import Record
from edgebench.results.runtimes import runtimes
from edgebench.results.selection import (
    BASELINES,
    batch_of,
    fastest,
    fastest_by,
    fully_measured,
    interval,
    is_ok,
    median_ms,
    threads_of,
    tied_by,
    within_budget,
)


def baseline_for(rec: Record, records: Sequence[Record]) -> tuple[Record | None, str]:
    """The fp32 record `rec` is compared with, and a note when it is not the exact counterpart (or is missing).

    The exact counterpart has the same runtime, batch, threads and settings label; without it the baseline at its
    own best thread count stands in (a run may measure fp32 at fewer thread counts), and the note says so.
    """
    runtime = str(rec.get("runtime"))
    name = BASELINES.get(runtime)
    if name is None:
        return None, f"no fp32 baseline is known for runtime {runtime}"
    same = [r for r in records if is_ok(r) and r.get("variant") == name and str(r.get("runtime")) == runtime
            and batch_of(r) == batch_of(rec)]
    if not same:
        return None, f"no fp32 baseline: {name} was not measured"
    label = rec.get("settings_label")
    exact = [r for r in same if threads_of(r) == threads_of(rec) and r.get("settings_label") == label]
    if exact:
        return exact[0], ""
    best = fastest([r for r in same if r.get("settings_label") == label] or same)
    return best, f"{name} was not measured at {threads_of(rec)} thread(s): compared with its best, " \
                 f"{threads_of(best)} thread(s)"


@dataclass(frozen=True)
class AccuracyDelta:
    """The pick's accuracy against its baseline in the most decision-relevant metric both have."""

    metric: str  # "top1_accuracy" | "top1_agreement" | "cosine"
    label: str
    value: float
    baseline: float | None  # None: no baseline with this metric; only the pick's own value is known

    @property
    def delta(self) -> float | None:
        return None if self.baseline is None else self.value - self.baseline

    @property
    def in_points(self) -> bool:
        """Top-1 metrics are fractions shown in percent, so their difference is in percentage points."""
        return self.metric != "cosine"


_TASK_METRICS = {"top1_agreement": "top-1 agreement", "top1_accuracy": "top-1 accuracy",
                 "score_agreement": "score agreement", "mean_rel_error": "mean abs error / range",
                 "mask_iou": "mask IoU", "cosine": "cosine"}


def _stated_outputs(rec: Record | None) -> dict[str, dict[str, Any]]:
    """Outputs whose kind the user stated (--output NAME=KIND or the profile), by name, with their figures."""
    acc = rec.get("accuracy") if rec else None
    if not isinstance(acc, dict):
        return {}
    outs = acc.get("outputs")
    found = [dict(o) for o in outs if isinstance(o, dict)] if isinstance(outs, list) else [dict(acc)]
    return {str(o.get("name", "output")): o for o in found if o.get("kind") and o.get("kind_inferred") is False}


def _task_delta(rec: Record, base: Record | None) -> AccuracyDelta | None:
    """The task-facing metric of the first output the user named, against the same output of the baseline."""
    theirs = _stated_outputs(base)
    for name, o in _stated_outputs(rec).items():
        metric = str(o.get("metric") or "")
        mine = num(o.get(metric))
        if metric in _TASK_METRICS and mine is not None:
            label = f"{_TASK_METRICS[metric]} of output {name!r} ({o['kind']})"
            return AccuracyDelta(metric, label, mine, num(theirs.get(name, {}).get(metric)))
    return None


def accuracy_delta(rec: Record, base: Record | None) -> AccuracyDelta | None:
    """The metric of the output the user named (--output NAME=KIND) when there is one; else top-1 accuracy where
    both have it (labels), else top-1 agreement, else cosine; the pick's own value when the baseline has none."""
    task = _task_delta(rec, base)
    if task is not None:
        return task
    for key, label in ACCURACY_METRICS:
        mine, theirs = dig_num(rec, "accuracy", key), dig_num(base, "accuracy", key)
        if mine is not None and theirs is not None:
            return AccuracyDelta(key, label, mine, theirs)
    for key, label in ACCURACY_METRICS:
        mine = dig_num(rec, "accuracy", key)
        if mine is not None:
            return AccuracyDelta(key, label, mine, None)
    return None


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    return numerator / denominator if numerator is not None and denominator else None


@dataclass(frozen=True)
class Pick:
    """One chosen record with what it is compared with."""

    record: Record
    baseline: Record | None
    baseline_note: str  # "" when the baseline is the exact counterpart
    accuracy: AccuracyDelta | None
    runner_up: Record | None  # the fastest other eligible variant (another runtime counts as another)
    # from interleaved rounds (results.json `paired`), as the other's median over the pick's: above 1, pick faster
    paired_speedup: RoundRatio | None = None
    paired_runner_up: RoundRatio | None = None
    objective: str = "median"  # what the pick minimises: "median" or "p99" (bench run --objective)

    @property
    def median(self) -> float:
        return median_ms(self.record) or 0.0

    @property
    def p99(self) -> float | None:
        return dig_num(self.record, "latency_ms", "p99")

    @property
    def median_ci(self) -> tuple[float, float] | None:
        return interval(self.record, "median_ci")

    @property
    def p99_ci(self) -> tuple[float, float] | None:
        return interval(self.record, "p99_ci")

    @property
    def speedup(self) -> float | None:
        """Baseline median over the pick's: 2.0 means twice as fast as fp32."""
        return ratio(median_ms(self.baseline) if self.baseline else None, median_ms(self.record))

    @property
    def size_ratio(self) -> float | None:
        """The pick's file size over the baseline's: 0.25 means a quarter of fp32's bytes."""
        base_bytes = self.baseline.get("model_bytes") if self.baseline else None
        return ratio(num(self.record.get("model_bytes")), num(base_bytes))

    @property
    def tied(self) -> bool:
        return self.runner_up is not None and tied_by(self.record, self.runner_up, self.objective)

    @property
    def is_baseline(self) -> bool:
        return self.baseline is self.record


@dataclass(frozen=True)
class Choice:
    """The pick of one scope: a runtime, or "*" for every runtime of the run."""

    scope: str
    pick: Pick | None  # None: nothing was measured
    within_budget: bool  # False: nothing qualified and `pick` is only the fastest measured, flagged
    reason: str
    over_budget: int = 0  # measured records that break the accuracy budget
    unchecked: list[Record] = field(default_factory=list)  # measured, accuracy not checked: not eligible
    failed: int = 0


@dataclass(frozen=True)
class Decision:
    overall: Choice
    per_runtime: list[Choice]
    paired: Sequence[Any] = ()  # results.json `paired.comparisons`: the ratios measured in interleaved rounds
    drift: float | None = None  # the machine's speed in the later rounds over the earlier ones (paired.drift)
    lasting_change: float | None = None  # the largest lasting change within a compared record's processes

    def versus_overall(self, choice: Choice) -> RoundRatio | None:
        """A runtime's pick against the overall pick, from interleaved rounds (above 1: the overall is faster)."""
        if self.overall.pick is None or choice.pick is None:
            return None
        return paired_ratio(self.paired, self.overall.pick.record, choice.pick.record)


def _pick(rec: Record, pool: list[Record], records: Sequence[Record], paired: Sequence[Any] = (),
          objective: str = "median") -> Pick:
    base, note = baseline_for(rec, records)
    # Runner-up: another deployable (variant on a runtime), not the same file at other settings or threads.
    others = [r for r in pool if (r.get("runtime"), r.get("variant")) != (rec.get("runtime"), rec.get("variant"))
              and batch_of(r) == batch_of(rec)]
    runner = fastest_by(others, objective) if others else None
    return Pick(rec, base, note, accuracy_delta(rec, base), runner,
                paired_ratio(paired, rec, base) if base is not None and base is not rec else None,
                paired_ratio(paired, rec, runner) if runner is not None else None, objective)


def choose(records: Sequence[Record], scope: str, everything: Sequence[Record], paired: Sequence[Any] = (),
           objective: str = "median") -> Choice:
    """The pick among `records` by the objective ("median" or "p99"); baselines are looked up in `everything`."""
    failed = len(records) - sum(1 for r in records if is_ok(r))
    measured = fully_measured(records)
    if not measured:
        return Choice(scope, None, False, f"nothing measured ({failed} record(s) failed)" if failed
                      else "nothing measured", failed=failed)
    eligible = [r for r in measured if within_budget(r) is True]
    over = sum(1 for r in measured if within_budget(r) is False)
    unchecked = [r for r in measured if within_budget(r) is None]
    if eligible:
        return Choice(scope, _pick(fastest_by(eligible, objective), eligible, everything, paired, objective), True,
                      f"fastest {objective} latency within the accuracy budget", over, unchecked, failed)
    why = [f"{over} over the budget" if over else "", f"{len(unchecked)} not checked" if unchecked else ""]
    reason = (f"nothing is within the accuracy budget ({', '.join(w for w in why if w)}): "
              "the fastest measured is shown, NOT a recommendation")
    return Choice(scope, _pick(fastest_by(measured, objective), measured, everything, paired, objective), False,
                  reason, over, unchecked, failed)


def decide(records: Sequence[Record], paired: Any = None, objective: Any = "median") -> Decision:
    """The overall pick and one pick per runtime (LiteRT, ONNX Runtime, then any other in name order); `paired`,
    results.json's `paired` section, gives the printed ratios their interleaved measurement where it has them;
    `objective` (results.json's, "median" unless a run asked for "p99") is what the picks minimise."""
    recs = [r for r in records if isinstance(r, dict)]
    comps = paired.get("comparisons") if isinstance(paired, dict) else None
    comps = comps if isinstance(comps, list) else []
    goal = "p99" if objective == "p99" else "median"
    per_runtime = [choose([r for r in recs if str(r.get("runtime")) == rt], rt, recs, comps, goal)
                   for rt in runtimes(recs)]
    drift = num(paired.get("drift")) if isinstance(paired, dict) else None
    lasting = dig_num(paired, "record_drift", "change") if isinstance(paired, dict) else None
    return Decision(choose(recs, "*", recs, comps, goal), per_runtime, comps, drift, lasting)


def decisive_pairs(records: Sequence[Record], objective: str = "median") -> list[tuple[str, Record, Record]]:
    """The comparisons the decision prints, as (role, pick, other), each pair once: every pick against its fp32
    baseline, the overall pick against its runner-up and against each runtime's pick."""
    d = decide(records, None, objective)
    out: list[tuple[str, Record, Record]] = []

    def add(role: str, pick: Record, other: Record | None) -> None:
        if other is not None and other is not pick and not any({id(pick), id(other)} == {id(a), id(b)}
                                                               for _, a, b in out):
            out.append((role, pick, other))
    for choice in [d.overall, *d.per_runtime]:
        if choice.pick is not None:
            add("pick vs fp32", choice.pick.record, choice.pick.baseline)
    if d.overall.pick is not None:
        add("pick vs runner-up", d.overall.pick.record, d.overall.pick.runner_up)
        for choice in d.per_runtime:
            if choice.pick is not None:
                add("pick vs runtime pick", d.overall.pick.record, choice.pick.record)
    return out
