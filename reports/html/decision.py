"""The top of report.html: the decision per run, and the warnings grouped (each group's list collapsed).

The decision's words are the terminal's (reports/decision_text.py), so the report and `bench run` never disagree.
"""
from __future__ import annotations

from collections.abc import Sequence

from edgebench.reports.decision import Choice, decide
from edgebench.reports.decision_text import accuracy_text, cautions, overall_lines, versus, with_ci
from edgebench.reports.fields import budget_violations, dig, text
from edgebench.reports.html.parts import e, is_host_timing, run_heading, strings, table
from edgebench.reports.rundata import RunData
from edgebench.reports.terminal.wide_table import sort_key, variant_label
from edgebench.reports.warning_groups import (
    busy_at_start,
    group_line,
    group_warnings,
    measured_count,
    record_name,
    screened_groups,
)
from edgebench.results.runtimes import runtime_name
from edgebench.results.selection import within_budget

DECISION_NOTE = ("The pick: the fastest median latency (smallest batch measured, at its best thread count) among the "
                 "benchmarks within the profile's accuracy budget; a benchmark whose accuracy was not checked is not "
                 "eligible. Two picks are tied when their 95% confidence intervals of the median overlap; a run "
                 "without intervals never claims a tie.")


def _runtime_row(choice: Choice) -> str:
    p = choice.pick
    if p is None:
        return f'<tr><td>{e(runtime_name(choice.scope))}</td><td colspan="8">none: {e(choice.reason)}</td></tr>'
    r = p.record
    # the section's note says what a pick is: only what differs from it goes in "why"
    why = ([] if choice.within_budget else [choice.reason]) + (
        [f"tied with {variant_label(p.runner_up)}"] if p.tied and p.runner_up else [])
    cells = [e(runtime_name(r.get("runtime"))), f"<b>{e(variant_label(r))}</b>", e(r.get("threads")),
             e(r.get("batch") or 1), e(with_ci(p.median, p.median_ci)), e(with_ci(p.p99, p.p99_ci)),
             e(versus(p, short=True)), e(accuracy_text(p, short=True)), e("; ".join(why + cautions(p)) or "-")]
    numeric = (2, 3, 4, 5)
    return "<tr>" + "".join(f'<td class="n">{c}</td>' if i in numeric else f"<td>{c}</td>"
                            for i, c in enumerate(cells)) + "</tr>"


def _run_decision(run: RunData) -> str:
    decision = decide(run.records, run.doc.get("paired"), run.doc.get("objective"))
    lines = overall_lines(decision.overall)
    heads = [line for line in lines if not line.startswith(" ")]
    details = [line.strip() for line in lines if line.startswith(" ")]
    cls = "pick" if decision.overall.within_budget else "pick bad"
    parts = [f'<div class="decision-run"><p class="rec">{run_heading(run)}</p>',
             *[f'<p class="{cls}">{e(h)}</p>' for h in heads],
             '<ul class="why">' + "".join(f"<li>{e(d)}</li>" for d in details) + "</ul>"]
    if decision.per_runtime:
        head = ["runtime", "pick", "threads", "batch", "median", "p99", "against fp32", "accuracy", "why"]
        parts.append(table(head, [_runtime_row(c) for c in decision.per_runtime], "picks"))
    return "".join(parts) + "</div>"


def decision_section(runs: Sequence[RunData]) -> str:
    body = "".join(_run_decision(run) for run in runs)
    return (f'<section id="decision"><h2>Decision</h2><p class="muted">{e(DECISION_NOTE)}</p>{body}</section>')


def _run_warnings(run: RunData) -> list[str]:
    """One run's warnings: its own (once each), failures, budget violations per variant, record warnings grouped."""
    lab = f"<b>{e(run.label)}</b>: "
    doc_warnings = strings(run.doc.get("warnings"))
    items = [f'<div class="warn">{lab}{e(w)}</div>' for w in doc_warnings]
    if dig(run.doc, "data", "kind") == "random" and not any("RANDOM" in w for w in doc_warnings):
        items.append(f'<div class="warn">{lab}accuracy and calibration used RANDOM data</div>')
    if is_host_timing(run) and not any("HOST" in w for w in doc_warnings):
        items.append(f'<div class="warn">{lab}host is not the profile\'s target: timings are HOST timings</div>')
    over_budget: dict[str, str] = {}
    for r in sorted(run.records, key=sort_key):
        if r.get("status") != "ok":
            items.append(f'<div class="bad">{lab}{e(record_name(r))}: FAILED: {e(r.get("error") or "?")}</div>')
        if within_budget(r) is False:  # accuracy is a property of the file: once per variant
            over_budget.setdefault(f"{runtime_name(r.get('runtime'))} {text(r.get('variant'))}",
                                   "; ".join(budget_violations(r)))
    items += [f'<div class="warn">{lab}{e(name)}: over the accuracy budget: {e(v)}</div>'
              for name, v in over_budget.items()]
    measured, busy = measured_count(run.records), busy_at_start(run.doc)
    for group in group_warnings(run.records):
        members = "".join(f"<li>{e(record_name(r))}: {e(w)}</li>" for r, w in group.members)
        # collapsed: the count and the rule are the message; the list is one click away
        items.append(f'<details class="wgroup warn"><summary>{lab}{e(group_line(group, measured, busy))}</summary>'
                     f"<ul>{members}</ul></details>")
    for line, recs in screened_groups(run.records):
        members = "".join(f"<li>{e(record_name(r))}: {e(dig(r, 'measurement', 'reason') or '')}</li>" for r in recs)
        items.append(f'<details class="wgroup info"><summary>{lab}{e(line)}</summary><ul>{members}</ul></details>')
    if run.samples_note:
        items.append(f'<div class="warn">{lab}{e(run.samples_note)}</div>')
    return items + [f'<div class="info">{lab}note: {e(n)}</div>' for n in strings(run.doc.get("notes"))]


def cross_run_warnings(runs: Sequence[RunData]) -> list[str]:
    out = []
    shas = {dig(r.doc, "model", "sha256") for r in runs}
    if len(runs) > 1 and len(shas) > 1:
        out.append("the merged runs measure different model files (sha256 differs): compare them with care")
    modes = {r.doc.get("mode") for r in runs}
    if len(modes) > 1:
        out.append(f"the merged runs used different modes ({', '.join(sorted(map(str, modes)))}): "
                   "their statistics rest on different sample counts")
    return out


def warnings_section(runs: Sequence[RunData]) -> str:
    items = [item for run in runs for item in _run_warnings(run)]
    items += [f'<div class="warn">{e(w)}</div>' for w in cross_run_warnings(runs)]
    body = "".join(items) or '<p class="info">No warnings.</p>'
    return f'<section id="warnings"><h2>Warnings and notes</h2>{body}</section>'


def warning_count(runs: Sequence[RunData]) -> int:
    """For the header: run warnings, failed benchmarks, and the groups of benchmark warnings (not their members)."""
    return sum(len(strings(r.doc.get("warnings"))) + sum(1 for x in r.records if x.get("status") != "ok")
               + len(group_warnings(r.records)) for r in runs)

