"""The decision in words: the lines `bench run` and `bench report` print first, and report.html shows on top.

Built from reports/decision.py's data. A CI is written as its two ends, "0.80 ms [0.78, 0.83]": latency intervals
are asymmetric (a p99's upper end may be four times its distance below), and a "+/-" of the wider side printed a
lower bound below zero that was never measured. A tie is claimed only
when both records carry a 95% CI of the median and the two overlap, and a run without CIs says no tie is judged.
"""
from __future__ import annotations

import math

from edgebench.reports.decision import Choice, Decision, Pick
from edgebench.reports.fields import budget_violations, dig, dig_num, fmt, num, record_warnings
from edgebench.reports.target_parity import target_summary
from edgebench.reports.terminal.wide_table import variant_label
from edgebench.results.ratios import RoundRatio
from edgebench.results.record import Record
from edgebench.results.runtimes import runtime_name
from edgebench.results.selection import interval, median_ms, threads_of, within_budget

SHORT_METRIC = {"top1_accuracy": "top-1 accuracy", "top1_agreement": "top-1 agreement", "cosine": "cosine"}


def with_ci(value: float | None, ci: tuple[float, float] | None) -> str:
    """"0.788 ms [0.765, 0.811]": the interval as its two ends, to the decimal place that shows its narrower side
    with two significant digits; without a CI just the value."""
    if value is None:
        return "- ms"
    if not ci or ci[1] - ci[0] <= 0:
        return f"{fmt(value)} ms"
    narrow = min(d for d in (value - ci[0], ci[1] - value, ci[1] - ci[0]) if d > 0)
    decimals = min(6, max(0, 1 - math.floor(math.log10(narrow))))
    return f"{value:.{decimals}f} ms [{ci[0]:.{decimals}f}, {ci[1]:.{decimals}f}]"


def _threads(rec: Record) -> str:
    n = threads_of(rec)
    return f"{n} thread{'s' * (n != 1)}"


def _where(rec: Record) -> str:
    batch = rec.get("batch")
    return f"{runtime_name(rec.get('runtime'))}, {_threads(rec)}" + (f", batch {batch}" if batch not in (None, 1)
                                                                         else "")


def accuracy_text(p: Pick, short: bool = False) -> str:
    acc = p.accuracy
    if acc is None:
        return "accuracy not measured"
    shown = (lambda v: f"{v:.1%}") if acc.in_points else (lambda v: f"{v:.5f}")
    delta = acc.delta
    if delta is None or p.is_baseline:
        return f"{acc.label} {shown(acc.value)}"
    change = f"{100 * delta:+.1f} pts" if acc.in_points else f"{delta:+.1e}"
    if short:
        return f"{SHORT_METRIC.get(acc.metric, acc.label)} {change}"
    return f"{acc.label} {shown(acc.value)} vs {shown(acc.baseline or 0.0)} for fp32 ({change})"


def versus(p: Pick, short: bool = False) -> str:
    """Speed-up and size against fp32, or why there is no comparison."""
    if p.is_baseline:
        return "this is the fp32 baseline"
    if p.baseline is None or p.speedup is None:
        return p.baseline_note or "no fp32 baseline"
    s = p.speedup
    name = p.baseline.get("variant") if short else f"{variant_label(p.baseline)} ({_threads(p.baseline)})"
    speed = paired_text(p.paired_speedup, str(name)) if p.paired_speedup else \
        (f"{s:.2f}x faster than {name}" if s >= 1 else f"{1 / s:.2f}x slower than {name}")
    size = "" if p.size_ratio is None else f", {p.size_ratio:.2f}x its size"
    if p.size_ratio is not None and not short:
        mine, theirs = (num(r.get("model_bytes")) or 0.0 for r in (p.record, p.baseline))
        size += f" ({fmt(mine / 1e6, '.3g')} vs {fmt(theirs / 1e6, '.3g')} MB)"
    return speed + size


def paired_text(r: RoundRatio, name: str) -> str:
    """"1.98x faster than tflite-fp32 (95% CI 1.91-2.04)" from interleaved rounds (`r`: the other's median over
    ours); an interval that holds 1.0 is "no measurable difference"."""
    if r.ci is None:
        shown = f"{r.ratio:.2f}x faster than {name}" if r.ratio >= 1 else f"{1 / r.ratio:.2f}x slower than {name}"
        return f"{shown} ({r.rounds} interleaved rounds: too few for a 95% CI)"
    low, high = r.ci
    if low <= 1.0 <= high:
        return f"no measurable difference from {name} ({r.ratio:.2f}x, 95% CI {low:.2f}-{high:.2f})"
    if r.ratio >= 1:
        return f"{r.ratio:.2f}x faster than {name} (95% CI {low:.2f}-{high:.2f})"
    return f"{1 / r.ratio:.2f}x slower than {name} (95% CI {1 / high:.2f}-{1 / low:.2f})"


def _runner_up(p: Pick, named: str) -> str | None:
    r = p.runner_up
    if r is None:
        return None
    other = f"{variant_label(r)} ({_where(r)})"
    if p.objective == "p99":
        mine_p99, theirs_p99 = with_ci(p.p99, p.p99_ci), with_ci(dig_num(r, "latency_ms", "p99"), interval(r, "p99_ci"))
        if p.tied:
            return f"{named} and {other} are tied on p99: {mine_p99} vs {theirs_p99} (95% CIs overlap)"
        return f"runner-up on p99 {other}: {theirs_p99}"
    mine, theirs = with_ci(p.median, p.median_ci), with_ci(median_ms(r), _ci(r))
    if p.paired_runner_up is not None:
        # the interleaved rounds' ratio: whether the two differ is judged there, not from intervals taken apart
        return f"runner-up {other}: {theirs}; {paired_text(p.paired_runner_up, 'the runner-up')}"
    if p.tied:
        return f"{named} and {other} are tied: {mine} vs {theirs} (95% CIs of the median overlap)"
    slower = (median_ms(r) or 0.0) / p.median if p.median else math.nan
    if p.median_ci and _ci(r):
        return f"runner-up {other}: {theirs}, {slower:.2f}x slower (95% CIs apart)"
    return (f"runner-up {other}: {theirs}, {slower:.2f}x slower (no confidence intervals in this run, "
            "so no tie is judged)")


def _ci(rec: Record) -> tuple[float, float] | None:
    return interval(rec, "median_ci")


def cautions(p: Pick) -> list[str]:
    """What should make a reader wary of the pick: where it was timed, how, and whether its accuracy holds."""
    rec, out = p.record, []
    if within_budget(rec) is False:
        out.append("over the accuracy budget: " + "; ".join(budget_violations(rec)))
    elif within_budget(rec) is None:
        out.append("accuracy not checked")
    if rec.get("timing_scope") == "host":
        out.append(f"HOST timing: measured on {dig(rec, 'measured_on', 'arch') or 'this host'}, not on the "
                   f"{dig(rec, 'measured_on', 'target_arch') or 'target'} target")
    if record_warnings(rec):
        out.append("measurement warnings: " + "; ".join(record_warnings(rec)))
    if dig(rec, "measurement", "method") == "screened":
        out.append(f"screened only: {dig(rec, 'measurement', 'reason') or 'a short run'}")
    return [f"caution: {c}" for c in out]


def _tail(p: Pick) -> str:
    """With the p99 objective, how far the pick's tail is from its median: what a latency SLO pays for."""
    if p.objective != "p99" or not p.p99 or not p.median:
        return ""
    return f" (p99 {p.p99 / p.median:.1f}x its median)"


def overall_lines(choice: Choice) -> list[str]:
    """The overall pick: headline, figures with CIs, against fp32, accuracy cost, runner-up or tie, cautions."""
    p = choice.pick
    if p is None:
        return [f"No pick: {choice.reason}."]
    rec = p.record
    head = "Best overall" if choice.within_budget else "Fastest overall (NOT within the accuracy budget)"
    head += " by p99 latency" if p.objective == "p99" else ""
    lines = [] if choice.within_budget else [f"Nothing to recommend: {choice.reason}."]
    lines.append(f"{head}: {variant_label(rec)} on {_where(rec)}")
    ci_note = " (95% CIs)" if p.median_ci or p.p99_ci else ""
    details = [f"median {with_ci(p.median, p.median_ci)}, p99 {with_ci(p.p99, p.p99_ci)}{ci_note}{_tail(p)}",
               versus(p), *([p.baseline_note] if p.baseline_note and p.baseline is not None else []),
               accuracy_text(p)]
    on_target = target_summary(rec)  # arm64/mobile from another arch: the kernels the model will really run on
    details += [on_target] if on_target else []
    runner = _runner_up(p, variant_label(rec))
    details += [runner] if runner else []
    if choice.unchecked and choice.within_budget:  # a fallback pick already considered them
        details.append(f"not considered: {len(choice.unchecked)} measured benchmark(s) whose accuracy was not "
                       "checked")
    return lines + ["  " + d for d in details + cautions(p)]


def runtime_lines(choice: Choice, overall: Choice, vs_overall: RoundRatio | None = None) -> list[str]:
    """Two lines per runtime: its pick with median and p99, then against fp32 and any tie."""
    name = runtime_name(choice.scope)
    p = choice.pick
    if p is None:
        return [f"Best on {name}: none: {choice.reason}"]
    if overall.pick is not None and p.record is overall.pick.record:
        return [f"Best on {name}: the overall pick"]
    head = "Best" if choice.within_budget else "Fastest (NOT within the accuracy budget)"
    first = (f"{head} on {name}{' by p99' if p.objective == 'p99' else ''}: {variant_label(p.record)}, "
             f"{_threads(p.record)}: median {with_ci(p.median, p.median_ci)}, p99 {with_ci(p.p99, p.p99_ci)}{_tail(p)}")
    second = [versus(p, short=True), accuracy_text(p, short=True)]
    if not choice.within_budget:
        second.append("over the accuracy budget" if within_budget(p.record) is False else "accuracy not checked")
    if p.tied and p.runner_up is not None:
        second.append(f"tied with {variant_label(p.runner_up)}")
    if vs_overall is not None and overall.pick is not None:
        inverse = RoundRatio(1 / vs_overall.ratio, (1 / vs_overall.ci[1], 1 / vs_overall.ci[0]) if vs_overall.ci
                             else None, vs_overall.rounds)
        second.append(paired_text(inverse, "the overall pick"))
    return [first, "  " + "; ".join(second)]


def decision_lines(decision: Decision) -> list[str]:
    """The decision as terminal lines: the overall pick first, then one short entry per runtime."""
    lines = overall_lines(decision.overall)
    if len(decision.per_runtime) > 1 or (decision.per_runtime and decision.overall.pick is None):
        for choice in decision.per_runtime:
            lines += runtime_lines(choice, decision.overall, decision.versus_overall(choice))
    if decision.paired:
        lines.append("  (ratios with a 95% CI: median of the per-round ratios of interleaved rounds, CI by the "
                     "sign test)")
    lines += drift_lines(decision.drift, decision.lasting_change)
    return lines


DRIFT_SHOWN = 0.05  # a change of the machine's speed below 5% is within what processes of one moment disagree by
LASTING_SHOWN = 0.15  # consecutive processes of one record: on a shared 2-core VM they disagree by up to ~10%


def drift_lines(drift: float | None, lasting: float | None = None) -> list[str]:
    """Said once when the interleaved rounds (or a compared record's consecutive processes) show the machine
    changed speed during the run, with the size."""
    tail = "; the ratios above are taken within rounds and hold, figures timed at other moments may not"
    if drift is not None and abs(drift - 1) >= DRIFT_SHOWN:
        way = f"{drift - 1:.0%} slower" if drift > 1 else f"{1 - drift:.0%} faster"
        return [f"drift: the machine ran {way} in the later interleaved rounds than in the earlier ones{tail}"]
    if lasting is not None and lasting - 1 >= LASTING_SHOWN:
        return [f"drift: the machine's speed changed by {lasting - 1:.0%} for several consecutive worker processes "
                f"of a compared record{tail}"]
    return []
