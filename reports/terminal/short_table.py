"""The default terminal table: one row per benchmark in 100 columns, fp32 first, then by speed.

Nine narrow columns and a flag column whose legend is printed under it; what does not fit a row (pass notes,
budget violations, failure reasons, warnings) goes under the table once per variant, see warning_groups. The wide
table of today (reports/terminal/wide_table.py) stays one flag away (`--wide`, `--table wide`).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text

from edgebench.reports.decision import baseline_for, decide, ratio
from edgebench.reports.fields import accuracy_metric, dig, dig_num, fmt, num, record_warnings, text
from edgebench.results.record import Record, records_in
from edgebench.results.runtimes import short_runtime_name
from edgebench.results.selection import batch_of, is_baseline, median_ms, threads_of, within_budget

# Short runtime names: the runtime column also carries the settings label ("ORT arena-off"), which is a runtime
# setting, and the full names would cost the variant column its width.

# (flag, meaning) in the order the flags are written in a cell
FLAGS: tuple[tuple[str, str], ...] = (
    ("x", "failed (reason below)"),
    ("B", "over the accuracy budget"),
    ("?", "accuracy not checked"),
    ("!", "unstable measurement (see warnings)"),
    ("s", "screened only: a short run, not fully measured"),
    ("P", "the pick, overall or of its runtime (the decision above)"),
)
STARRED = ("median ms", "p99 ms", "size MB")  # the best of these columns is marked, as in the wide table


def picked(records: Sequence[Record], objective: Any = "median") -> list[Record]:
    """The records the decision picks (overall and per runtime, by the run's objective), each once."""
    d = decide(records, None, objective)
    out: list[Record] = []
    for choice in (d.overall, *d.per_runtime):
        if choice.pick is not None and choice.within_budget and not any(r is choice.pick.record for r in out):
            out.append(choice.pick.record)
    return out


def flags(rec: Record, picks: Sequence[Record] = ()) -> str:
    on = {
        "x": rec.get("status") != "ok",
        "B": within_budget(rec) is False,
        "?": rec.get("status") == "ok" and within_budget(rec) is None,
        "!": bool(record_warnings(rec)),
        "s": dig(rec, "measurement", "method") == "screened",
        "P": any(rec is p for p in picks),
    }
    return "".join(f for f, _ in FLAGS if on[f])


def legend(records: Sequence[Record], metric: tuple[str, str] | None, objective: Any = "median") -> str:
    """The flags in use, the accuracy column's metric and the best marker, as one line of prose."""
    picks = picked(records, objective)
    used = "".join(flags(r, picks) for r in records)
    parts = [f"{f} {meaning}" for f, meaning in FLAGS if f in used]
    if metric:
        unit = "percentage points" if metric[0] != "cosine" else "absolute"
        parts.append(f"Δacc: {metric[1]} minus fp32's ({unit})")
    parts.append("x fp32: fp32 median / this median; * best of its column")
    return "flags: " + "; ".join(parts)


def row_order(records: Sequence[Record]) -> list[Record]:
    """fp32 baselines first, then by median latency; per batch size, failed benchmarks last."""
    def key(r: Record) -> tuple:
        m = median_ms(r)
        return (batch_of(r), m is None, not is_baseline(r), m if m is not None else math.inf,
                text(r.get("runtime")), text(r.get("variant")), text(r.get("settings_label")), threads_of(r))
    return sorted(records, key=key)


def runtime_cell(rec: Record) -> str:
    name = short_runtime_name(rec.get("runtime"))
    label = rec.get("settings_label")
    return f"{name} {label}" if label else name


def delta_cell(rec: Record, base: Record | None, metric: tuple[str, str] | None) -> str:
    if metric is None or base is None:
        return "-"
    mine, theirs = dig_num(rec, "accuracy", metric[0]), dig_num(base, "accuracy", metric[0])
    if mine is None or theirs is None:
        return "-"
    d = mine - theirs
    if metric[0] == "cosine":  # cosines differ in the 4th decimal: one significant digit says enough
        return "0" if d == 0 else f"{d:+.0e}"
    return f"{100 * d:+.1f}"


def _best(records: Sequence[Record]) -> dict[str, float]:
    getters = {"median ms": median_ms, "p99 ms": lambda r: dig_num(r, "latency_ms", "p99"),
               "size MB": lambda r: num(r.get("model_bytes"))}
    best = {}
    ok = [r for r in records if r.get("status") == "ok"]
    for header, get in getters.items():
        values = [v for v in (get(r) for r in ok) if v is not None]
        if len(values) > 1:  # a mark needs something to beat
            best[header] = min(values)
    return best


def _cells(rec: Record, records: Sequence[Record], metric: tuple[str, str] | None,
           best: dict[str, float], batches: bool, picks: Sequence[Record]) -> list[Text]:
    base, _ = baseline_for(rec, records) if rec.get("status") == "ok" else (None, "")
    size = num(rec.get("model_bytes"))
    values = {"median ms": (median_ms(rec), ".4g"), "p99 ms": (dig_num(rec, "latency_ms", "p99"), ".4g"),
              "size MB": (size, ".3g")}
    numbers = []
    for header in STARRED:
        v, spec = values[header]
        shown = fmt(v / 1e6 if header == "size MB" and v is not None else v, spec)
        marked = header in best and v == best[header] and rec.get("status") == "ok"
        numbers.append(Text(shown + " *", style="bold green") if marked else Text(shown))
    speedup = ratio(median_ms(base), median_ms(rec)) if base else None
    cells = [Text(text(rec.get("variant"), "?")), Text(runtime_cell(rec)), Text(str(threads_of(rec)))]
    cells += [Text(str(batch_of(rec)))] if batches else []
    cells += numbers[:2] + [Text("-" if speedup is None else f"{speedup:.2f}x"), numbers[2],
                            Text(delta_cell(rec, base, metric)), Text(flags(rec, picks), style="yellow")]
    return cells


def short_table(doc: dict[str, Any]) -> Table:
    """The table itself (title, caption and legend are printed around it as plain lines, see terminal.py)."""
    records = records_in(doc)
    metric = accuracy_metric([records])
    batches = any(batch_of(r) != 1 for r in records)
    # a header rule and two spaces between columns (one of padding, one of divider): no borders to pay for
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 1, 0, 0), pad_edge=False, show_edge=False)
    # variant names never wrap; if a terminal is too narrow the name is cut with an ellipsis, the row stays one line
    table.add_column("variant", no_wrap=True, overflow="ellipsis")
    table.add_column("runtime", no_wrap=True)
    table.add_column("thr", justify="right", no_wrap=True)
    if batches:
        table.add_column("batch", justify="right", no_wrap=True)
    for header in ("median ms", "p99 ms", "x fp32", "size MB", "Δacc"):
        table.add_column(header, justify="right", no_wrap=True)
    table.add_column("flags", no_wrap=True)
    best, picks = _best(records), picked(records, doc.get("objective"))
    previous: tuple[int, bool] | None = None
    for rec in row_order(records):
        group = (batch_of(rec), is_baseline(rec))
        if previous is not None and group != previous:
            table.add_section()
        previous = group
        table.add_row(*_cells(rec, records, metric, best, batches, picks))
    return table


def title_line(doc: dict[str, Any]) -> str:
    model = dig(doc, "model", "name") or "?"
    return f"{model} | profile {dig(doc, 'profile', 'name') or '?'} | {doc.get('mode') or '?'} mode"
