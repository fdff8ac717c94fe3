"""The terminal table of one run: rows grouped by runtime and variant, the best value per column marked."""
from __future__ import annotations

import math
from typing import Any, Callable

from rich.table import Table
from rich.text import Text


def _fmt(v: Any, spec: str) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return format(v, spec)


def _acc(rec: dict[str, Any], key: str) -> Any:
    return (rec.get("accuracy") or {}).get(key)


# (header, getter, format, better: "min" | "max" | None)
COLUMNS: list[tuple[str, Callable[[dict[str, Any]], Any], str, str | None]] = [
    ("median ms", lambda r: (r.get("latency_ms") or {}).get("median"), ".3f", "min"),
    ("p90 ms", lambda r: (r.get("latency_ms") or {}).get("p90"), ".3f", "min"),
    ("p99 ms", lambda r: (r.get("latency_ms") or {}).get("p99"), ".3f", "min"),
    ("stdev", lambda r: (r.get("latency_ms") or {}).get("stdev"), ".3f", None),
    ("items/s", lambda r: r.get("throughput_ips"), ",.0f", "max"),
    ("cold ms", lambda r: r.get("cold_start_ms"), ".1f", "min"),
    ("peak MB", lambda r: r.get("peak_rss_mb"), ".1f", "min"),
    ("size MB", lambda r: (r["model_bytes"] / 1e6) if r.get("model_bytes") else None, ".2f", "min"),
    ("top-1 agree", lambda r: _acc(r, "top1_agreement"), ".3f", "max"),
    ("cosine", lambda r: _acc(r, "cosine"), ".5f", "max"),
    ("max abs err", lambda r: _acc(r, "max_abs_error"), ".2e", "min"),
    ("top-1 acc", lambda r: _acc(r, "top1_accuracy"), ".3f", "max"),
]


def sort_key(rec: dict[str, Any]) -> tuple:
    return (rec.get("runtime", ""), rec.get("variant", ""), rec.get("threads") or 0, rec.get("batch") or 1)


def timing_scope_caption(doc: dict[str, Any]) -> str:
    host = doc.get("host", {})
    prof = doc.get("profile", {})
    if host.get("arch") and prof.get("target_arch") and host["arch"] != prof["target_arch"]:
        return (f"HOST TIMINGS: measured on {host['arch']} ({host.get('cpu_model', '?')}), "
                f"not on the {prof['target_arch']} target of profile {prof.get('name')}")
    return f"measured on {host.get('cpu_model', '?')} ({host.get('arch', '?')}, {host.get('cores', '?')} cores)"


def results_table(doc: dict[str, Any]) -> Table:
    records = sorted(doc["results"], key=sort_key)
    ok = [r for r in records if r.get("status") == "ok"]
    best: dict[str, Any] = {}
    for header, get, _, better in COLUMNS:
        vals = [get(r) for r in ok if get(r) is not None]
        if better and len(vals) > 1:
            best[header] = min(vals) if better == "min" else max(vals)
    model = doc.get("model", {})
    title = f"{model.get('name', '?')} | profile {doc.get('profile', {}).get('name', '?')} | {doc.get('mode', '')} mode"
    table = Table(title=title, caption=timing_scope_caption(doc), show_lines=False)
    for col in ("runtime", "variant", "thr", "batch"):
        table.add_column(col, no_wrap=True)
    for header, *_ in COLUMNS:
        table.add_column(header, justify="right")
    table.add_column("status")
    previous = None
    for r in records:
        group = (r.get("runtime"), r.get("variant"))
        if previous is not None and group[0] != previous[0]:
            table.add_section()
        cells: list[Any] = [r.get("runtime", ""), r.get("variant", "") if group != previous else "",
                            str(r.get("threads", "")), str(r.get("batch", 1))]
        previous = group
        for header, get, spec, _ in COLUMNS:
            v = get(r)
            text = _fmt(v, spec)
            cells.append(Text(text + " *", style="bold green") if header in best and v == best[header] else text)
        cells.append(_status_cell(r))
        table.add_row(*cells)
    return table


def _status_cell(r: dict[str, Any]) -> Text:
    cell = _status_text(r)
    if r.get("recommended"):
        cell = Text("RECOMMENDED ", style="bold green") + cell
    notes = r.get("pass_notes") or []
    if notes:  # what the pass found (e.g. "nothing quantized") belongs next to the figures it explains
        cell.append(" | " + "; ".join(notes), style="dim")
    return cell


def _status_text(r: dict[str, Any]) -> Text:
    if r.get("status") != "ok":
        return Text(f"FAILED: {r.get('error') or '?'}", style="red")
    budget = r.get("accuracy_budget") or {}
    if budget and not budget.get("ok", True):
        return Text("over accuracy budget: " + "; ".join(budget.get("violations", [])), style="yellow")
    flags = r.get("warnings") or []
    return Text("ok" + (" (" + "; ".join(flags) + ")" if flags else ""), style="green" if not flags else "yellow")


def run_messages(doc: dict[str, Any]) -> list[str]:
    """Warnings first, then notes, for printing under the table."""
    return [f"warning: {w}" for w in doc.get("warnings", [])] + [f"note: {n}" for n in doc.get("notes", [])]


def plain_table(doc: dict[str, Any]) -> str:
    """The same table as aligned plain text, for pipes, logs and NO_COLOR."""
    records = sorted(doc["results"], key=sort_key)
    header = ["runtime", "variant", "thr", "batch", *[h for h, *_ in COLUMNS], "status"]
    rows = [header]
    for r in records:
        row = [str(r.get("runtime", "")), str(r.get("variant", "")), str(r.get("threads", "")), str(r.get("batch", 1))]
        row += [_fmt(get(r), spec) for _, get, spec, _ in COLUMNS]
        row.append(_status_cell(r).plain)
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    model = doc.get("model", {})
    lines = [f"{model.get('name', '?')} | profile {doc.get('profile', {}).get('name', '?')} | {doc.get('mode', '')} mode"]
    for row in rows:
        cells = [c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells + [row[-1]]).rstrip())
    lines.append(timing_scope_caption(doc))
    return "\n".join(lines)
