"""Warnings grouped by what they say, so forty benchmarks' warnings read as a few lines with counts.

A record's warnings carry their own numbers ("stdev is 13% of the mean"): identical text would rarely repeat, so they
are grouped by the stability rule that raised them (results/stability.py), with the range of the numbers. Text no rule
matches is grouped by its exact wording. The full list stays with each group, for HTML details and `--wide`.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from edgebench.reports.fields import budget_violations, dig, record_warnings, text
from edgebench.reports.terminal.wide_table import variant_label
from edgebench.results import stability as st
from edgebench.results.record import Record
from edgebench.results.runtimes import runtime_name
from edgebench.results.selection import batch_of, is_ok, threads_of, within_budget

# (pattern with the warning's number, the rule it broke, unit of the number, a sign of a noisy machine)
RULES: tuple[tuple[re.Pattern[str], str, str, bool], ...] = (
    (re.compile(r"stdev is ([\d.]+)% of the mean"), f"unstable: stdev > {st.MAX_CV:.0%} of the mean", "%", True),
    (re.compile(r"([\d.]+)% outliers"), f"more than {st.MAX_OUTLIER_SHARE:.0%} outliers (> Q3 + 3 IQR)", "%", True),
    (re.compile(r"worker processes disagree by ([\d.]+)%"),
     f"worker processes disagree by more than {st.MAX_PROCESS_SPREAD:.0%}", "%", True),
    # "median CI reaches 1.4% from the median, beyond the 1% target" (older runs: "median CI +/-1.4% is wider")
    (re.compile(r"median CI (?:reaches |\+/-)([\d.]+)%"), "median CI beyond the target after every process",
     "%", True),
    (re.compile(r"only (\d+) samples"), f"fewer than {st.MIN_SAMPLES} samples", " samples", False),
    (re.compile(r"shortest sample ([\d.]+) us"),
     f"samples shorter than {st.MIN_SAMPLE_S * 1e6:.0f} us, too short to time reliably", " us", False),
)


@dataclass
class WarningGroup:
    rule: str
    unit: str = ""
    noisy_machine: bool = False  # a rule a busy machine breaks: worth naming a busy start beside it
    values: list[float] = field(default_factory=list)
    members: list[tuple[Record, str]] = field(default_factory=list)  # (record, its own warning text)

    @property
    def count(self) -> int:
        return len({id(rec) for rec, _ in self.members})

    def value_range(self) -> str:
        if not self.values:
            return ""
        lo, hi = min(self.values), max(self.values)
        return f"{lo:g}{self.unit}" if lo == hi else f"{lo:g}{self.unit} to {hi:g}{self.unit}"


def _classify(warning: str) -> tuple[str, str, bool, float | None]:
    for pattern, rule, unit, noisy in RULES:
        m = pattern.search(warning)
        if m:
            return rule, unit, noisy, float(m.group(1))
    return warning, "", False, None


def group_warnings(records: Sequence[Record]) -> list[WarningGroup]:
    """One group per rule (or per distinct unknown text), most frequent first."""
    groups: dict[str, WarningGroup] = {}
    for rec in records:
        for w in record_warnings(rec):
            rule, unit, noisy, value = _classify(w)
            group = groups.setdefault(rule, WarningGroup(rule, unit, noisy))
            group.members.append((rec, w))
            if value is not None:
                group.values.append(value)
    return sorted(groups.values(), key=lambda g: -g.count)


def busy_at_start(doc: dict[str, Any]) -> bool:
    """The run's own warning that other processes loaded the machine when it started (benchmarks/measure/host)."""
    return any("machine busy" in str(w) for w in (doc.get("warnings") or []))


def group_line(group: WarningGroup, measured: int, busy: bool = False) -> str:
    """ "12 of 40 benchmarks unstable: stdev > 10% of the mean (11% to 74%); machine busy at start" """
    spread = group.value_range()
    # "unstable: ..." reads as a predicate of the benchmarks; any other rule follows a colon
    sep = " " if group.rule.startswith("unstable") else ": "
    line = f"{group.count} of {measured} benchmarks{sep}{group.rule}" + (f" ({spread})" if spread else "")
    return line + ("; machine busy at start" if busy and group.noisy_machine else "")


def record_name(rec: Record) -> str:
    """Which benchmark a line is about: runtime, variant and settings, threads, batch (when not 1)."""
    batch = batch_of(rec)
    return (f"{runtime_name(rec.get('runtime'))} {variant_label(rec)} t{threads_of(rec)}"
            + (f" b{batch}" if batch != 1 else ""))


def measured_count(records: Sequence[Record]) -> int:
    return sum(1 for r in records if is_ok(r))


def variant_notes(records: Sequence[Record]) -> list[str]:
    """What the table's rows cannot hold, once per variant: pass notes (e.g. quantization coverage), accuracy
    budget violations; and each failed benchmark with its reason. Why records were only screened: screened_lines."""
    notes: dict[str, list[str]] = {}
    failures: list[str] = []
    for rec in records:
        name = text(rec.get("variant"), "?")
        mine = notes.setdefault(name, [])
        for note in [text(n) for n in (rec.get("pass_notes") or [])]:
            if note not in mine:
                mine.append(note)
        if within_budget(rec) is False:
            note = "over the accuracy budget: " + "; ".join(budget_violations(rec))
            if note not in mine:
                mine.append(note)
        if rec.get("status") != "ok":
            failures.append(f"{record_name(rec)}: FAILED: {text(rec.get('error'), '?')}")
    return [f"{name}: {n}" for name, ns in notes.items() for n in ns] + failures


def screen_kind(reason: str) -> str:
    """What kind of reason a screening's `measurement.reason` is (its figures left out: they differ per record)."""
    for start, kind in (("cannot win", "cannot win"), ("over the accuracy budget", "over the accuracy budget"),
                        ("accuracy not checked", "accuracy not checked while others are within the budget")):
        if reason.startswith(start):
            return kind
    if "sweep_latency" in reason:
        return 'latency not asked for this runtime setting (sweep_latency = "first")'
    return reason.split(":")[0] or "a short run"


def screened_groups(records: Sequence[Record]) -> list[tuple[str, list[Record]]]:
    """(line, records) per kind of reason records kept their screening figures, most frequent first: the line has
    the count of benchmarks and variants and the range of their screening medians."""
    kinds: dict[str, list[Record]] = {}
    for rec in records:
        if is_ok(rec) and dig(rec, "measurement", "method") == "screened":
            kinds.setdefault(screen_kind(text(dig(rec, "measurement", "reason"), "")), []).append(rec)
    out = []
    for kind, recs in sorted(kinds.items(), key=lambda kv: -len(kv[1])):
        medians = [m for m in (dig(r, "latency_ms", "median") for r in recs) if isinstance(m, (int, float))]
        variants = len({r.get("variant") for r in recs})
        span = f"; screening medians {min(medians):.3g} to {max(medians):.3g} ms" if medians else ""
        out.append((f"screened only, {kind}: {len(recs)} benchmark{'s' * (len(recs) != 1)} of {variants} "
                    f"variant{'s' * (variants != 1)}{span}", recs))
    return out


def screened_lines(records: Sequence[Record]) -> list[str]:
    """The screened records in one line per kind of reason; each record's own reason is in --wide and report.html."""
    return [line for line, _ in screened_groups(records)]


# notes of the run the decision above the table replaces (the quantized variant each configuration recommends):
# kept in results.json, report.html and --wide, left out of the default screen
REPLACED_BY_DECISION = re.compile(r": (recommended quantized variant|no quantized variant stays within)")


def screen_notes(doc: dict[str, Any]) -> list[str]:
    return [str(n) for n in doc.get("notes") or [] if not REPLACED_BY_DECISION.search(str(n))]
