"""The last stage of measuring: the comparisons the decision prints, measured in interleaved rounds.

Records measured minutes apart are timed at different moments of a shared machine: seven back-to-back runs put the
same pick at 1.74x to 2.75x its fp32 baseline, each record's own interval honest, their ratio not. So after
screening, each record the decision compares (each runtime's pick and its fp32 baseline, the overall pick, its
runner-up and the other runtime's pick) gets one more worker process per round, the records taken in turn and the
order reversed every other round (ABBA). Each ratio is the median of its per-round ratios, with the sign test's
95% interval over the rounds (results/ratios.py). The processes are the records' own: they are appended to each
record's samples, so the rounds also narrow the records' intervals.
"""
from __future__ import annotations

import typing
from typing import Any

from edgebench.benchmarks.measure.child_call import MeasureError
from edgebench.benchmarks.measure.measurer import MeasureJob
from edgebench.benchmarks.measure.sampling import MODES, Sampling
from edgebench.benchmarks.run.context import BuiltVariant, RunContext
from edgebench.benchmarks.run.options import item_done
from edgebench.optimizers.errors import one_line
from edgebench.reports.decision import decisive_pairs
from edgebench.results.ratios import drift_of_rounds, round_ratio, sustained_change
from edgebench.results.record import Figures, Measurement, Record, RecordKey, record_key

# rounds of each mode: at least 6 (fewer cannot bound a median at 95% by the sign test), then until every ratio's
# interval is within RATIO_TARGET_PCT of it or the mode's most
ROUNDS = {"fast": (6, 6), "default": (6, 8), "rigorous": (12, 20)}
RATIO_TARGET_PCT = 2.0
METHOD = ("interleaved rounds (one worker process of each record in turn, order reversed every other round); "
          "ratio = median of the per-round ratios, 95% CI from the sign test's order statistics")


PASSES = 2  # the rounds' processes may move the pick: its new comparisons get rounds of their own, once


def paired_rounds(ctx: RunContext, built: list[BuiltVariant]) -> None:
    """Measure the decision's comparisons in interleaved rounds and store them in results.json's `paired`."""
    by_name: dict[tuple[str, str], BuiltVariant] = {(bv.name, bv.runtime): bv for bv in built if not bv.error}
    doc: dict[str, Any] = {"method": METHOD, "rounds": 0, "comparisons": [], "round_medians_ms": {}}
    done: set[frozenset[RecordKey]] = set()
    for n in range(PASSES):
        pairs = [(role, a, b) for role, a, b in decisive_pairs(ctx.doc["results"], ctx.opts.profile.objective)
                 if (a["variant"], a["runtime"]) in by_name and (b["variant"], b["runtime"]) in by_name
                 and frozenset((record_key(a), record_key(b))) not in done]
        if not pairs:
            break
        done |= {frozenset((record_key(a), record_key(b))) for _, a, b in pairs}
        members: list[RecordKey] = []
        for _, a, b in pairs:
            members += [k for k in (record_key(a), record_key(b)) if k not in members]
        medians = _rounds(ctx, by_name, pairs, members)
        _add_pass(doc, pairs, members, medians, ctx.doc["results"], first=n == 0)
    if doc["comparisons"]:
        _add_record_drift(doc, ctx.doc["results"])
        ctx.doc["paired"] = doc
        ctx.writer.flush()


def _rounds(ctx: RunContext, by_name: dict[tuple[str, str], BuiltVariant], pairs: list[tuple[str, Record, Record]],
            members: list[RecordKey]) -> dict[RecordKey, list[float]]:
    """Rounds of one process per member, the order reversed every other round, until the ratios settle."""
    least, most = ROUNDS.get(ctx.opts.mode, ROUNDS["default"])
    medians: dict[RecordKey, list[float]] = {k: [] for k in members}
    ctx.reporter.stage(f"measuring the decision's comparisons in interleaved rounds ({least}-{most})",
                       total=most * len(members))
    for n in range(most):
        order = members if n % 2 == 0 else members[::-1]
        for key in order:
            medians[key].append(_one_process(ctx, by_name[(key.variant, key.runtime)], key))
        if n + 1 >= least and _settled(pairs, medians):
            break
    return medians


def _one_process(ctx: RunContext, bv: BuiltVariant, key: RecordKey) -> float:
    """One more worker process of the record, appended to its samples; its median (ms), NaN when it failed."""
    rec = _record(ctx, key)
    ctx.reporter.advance(item := f"{key.runtime} {key.variant} t{key.threads}")
    m = MODES[ctx.opts.mode]
    # the screening's short budget: a process's start (imports, load) costs more than its timed values, and a
    # ratio gains more from another round than from longer processes
    sampling = Sampling(False, 1, 1, None, m["screen_budget"], int(m["warmups"]), int(m["nmin"]), int(m["nmax"]))
    inputs_npz = ctx.writer.work / f"{bv.name}.b{key.batch}.inputs.npz"
    try:
        figures, pyperf_json = ctx.measurer.measure(MeasureJob(
            rec["benchmark"], bv.runtime, bv.path, key.threads, rec.get("runtime_settings") or {}, inputs_npz,
            ctx.writer.work, sampling, bv.seconds_per_inference * key.batch, ctx.opts.timeout,
            ctx.opts.profile.max_rss_mb, True, ctx.opts.profile.target_arch))
    except MeasureError as exc:
        ctx.warn(f"paired round of {item} failed: {one_line(exc, 200)}")
        item_done(ctx.reporter, item, "failed")
        return float("nan")
    ctx.writer.replace(_merged(rec, figures), pyperf_json)
    item_done(ctx.reporter, item, "ok")
    return float(figures["measurement"]["process_medians_ms"][-1])


def _record(ctx: RunContext, key: RecordKey) -> Record:
    return next(r for r in ctx.doc["results"] if record_key(r) == key)


def _merged(rec: Record, figures: dict[str, Any]) -> Record:
    """The record with the figures of all its processes, the paired one included; how it was measured (method,
    reason) stays, with the count of processes the rounds added."""
    out = typing.cast(Record, dict(rec))
    fig = typing.cast(Figures, figures)
    old: dict[str, Any] = dict(rec.get("measurement") or {})
    new = fig["measurement"]
    out.update(fig)
    merged = dict(old, processes=new.get("processes"), samples=new.get("samples"),
                  process_medians_ms=new.get("process_medians_ms", []),
                  paired_processes=int(old.get("paired_processes") or 0) + 1)
    if "median_ci_pct" in new:
        merged["median_ci_pct"] = new["median_ci_pct"]
    out["measurement"] = typing.cast(Measurement, merged)
    lat = out.get("latency_ms")
    median = lat["median"] if lat else None
    out["throughput_ips"] = (rec.get("batch") or 1) * 1000.0 / median if median else None
    return out


def _round_ratios(a: list[float], b: list[float]) -> list[float]:
    """b over a, round by round (a round where either process failed is left out)."""
    return [y / x for x, y in zip(a, b) if x > 0 and y > 0]


def _settled(pairs: list[tuple[str, Record, Record]], medians: dict[RecordKey, list[float]]) -> bool:
    for _, a, b in pairs:
        r = round_ratio(_round_ratios(medians[record_key(a)], medians[record_key(b)]))
        if r is None or r.ci is None or max(r.ratio - r.ci[0], r.ci[1] - r.ratio) / r.ratio * 100 > RATIO_TARGET_PCT:
            return False
    return True


def _add_pass(doc: dict[str, Any], pairs: list[tuple[str, Record, Record]], members: list[RecordKey],
              medians: dict[RecordKey, list[float]], records: list[Record], first: bool) -> None:
    """One pass's comparisons (each from the rounds it was measured in) and, from the first pass, the drift."""
    names = {record_key(r): r["benchmark"] for r in records}
    for role, a, b in pairs:
        per_round = _round_ratios(medians[record_key(a)], medians[record_key(b)])
        r = round_ratio(per_round)
        doc["comparisons"].append({"role": role, "a": a["benchmark"], "b": b["benchmark"],
                                   "ratio": r.ratio if r else None, "ci": list(r.ci) if r and r.ci else None,
                                   "rounds": len(per_round), "per_round": [round(v, 5) for v in per_round]})
    doc["rounds"] = max([doc["rounds"], *(len(v) for v in medians.values())])
    for k in members:
        doc["round_medians_ms"].setdefault(names[k], []).extend(round(v, 5) for v in medians[k])
    change = drift_of_rounds([medians[k] for k in members]) if first else None
    if change is not None:
        doc["drift"] = round(change, 4)


def _add_record_drift(doc: dict[str, Any], records: list[Record]) -> None:
    """A change that came and went (a neighbour's burst) while the compared records were measured: their process
    medians, in the order they were taken, show it where the halves of the rounds may not."""
    lasting = {name: sustained_change(_record_medians(records, name)) for name in doc["round_medians_ms"]}
    worst = max(((n, c) for n, c in lasting.items() if c is not None), key=lambda nc: nc[1], default=None)
    if worst is not None:
        doc["record_drift"] = {"benchmark": worst[0], "change": round(worst[1], 4)}


def _record_medians(records: list[Record], name: str) -> list[float]:
    rec = next((r for r in records if r.get("benchmark") == name), None)
    m = rec.get("measurement") if rec else None
    return list(m.get("process_medians_ms") or []) if m else []
