"""The terminal table of one run: rows grouped by runtime and variant, the best value per column marked."""
from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from edgebench.reports.fields import dig, timed_on
from edgebench.results.record import Record
from edgebench.results.selection import is_screened, within_budget


def _fmt(v: Any, spec: str) -> str:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or math.isnan(v):
        return "-"
    return format(v, spec)


def _acc(rec: Record, key: str) -> Any:
    return dig(rec, "accuracy", key)


# (header, getter, format, better: "min" | "max" | None)
COLUMNS: list[tuple[str, Callable[[Record], Any], str, str | None]] = [
    ("median ms", lambda r: dig(r, "latency_ms", "median"), ".4g", "min"),
    ("p90 ms", lambda r: dig(r, "latency_ms", "p90"), ".4g", "min"),
    ("p99 ms", lambda r: dig(r, "latency_ms", "p99"), ".4g", "min"),
    ("stdev", lambda r: dig(r, "latency_ms", "stdev"), ".3g", None),
    ("items/s", lambda r: r.get("throughput_ips"), ",.0f", "max"),
    ("load ms", lambda r: dig(r, "cold_start", "load_ms"), ".1f", "min"),
    ("1st inf ms", lambda r: dig(r, "cold_start", "first_inference_ms"), ".2f", "min"),
    ("peak MB", lambda r: r.get("peak_rss_mb"), ".1f", "min"),
    ("size MB", lambda r: (size / 1e6) if (size := r.get("model_bytes")) else None, ".2f", "min"),
    ("top-1 agree", lambda r: _acc(r, "top1_agreement"), ".3f", "max"),
    ("cosine", lambda r: _acc(r, "cosine"), ".5f", "max"),
    ("max abs err", lambda r: _acc(r, "max_abs_error"), ".2e", "min"),
    ("top-1 acc", lambda r: _acc(r, "top1_accuracy"), ".3f", "max"),
]


def _int(v: Any, default: int) -> int:
    return v if isinstance(v, int) and not isinstance(v, bool) else default


def sort_key(rec: Record) -> tuple:
    return (str(rec.get("runtime") or ""), str(rec.get("variant") or ""), str(rec.get("settings_label") or ""),
            _int(rec.get("threads"), 0), _int(rec.get("batch"), 1))


def variant_label(rec: Record) -> str:
    """The variant name plus the runtime setting that distinguishes this record (e.g. the ORT arena off)."""
    label = rec.get("settings_label")
    return f"{rec.get('variant', '')} [{label}]" if label else str(rec.get("variant", ""))


def timing_scope_caption(doc: dict[str, Any]) -> str:
    host = timed_on(doc)
    prof = doc.get("profile", {})
    if host.get("arch") and prof.get("target_arch") and host["arch"] != prof["target_arch"]:
        return (f"HOST TIMINGS: measured on {host['arch']} ({host.get('cpu_model', '?')}), "
                f"not on the {prof['target_arch']} target of profile {prof.get('name')}")
    cores = f", {host['cores']} cores" if host.get("cores") else ""  # a cluster node's record does not say
    return f"measured on {host.get('cpu_model', '?')} ({host.get('arch', '?')}{cores})"


def best_values(records: list[Record]) -> dict[str, Any]:
    """The best value of each ranked column over the measured records (only when there is something to beat)."""
    ok = [r for r in records if r.get("status") == "ok"]
    best: dict[str, Any] = {}
    for header, get, _, better in COLUMNS:
        vals = [v for v in (get(r) for r in ok) if isinstance(v, (int, float)) and not math.isnan(v)]
        if better and len(vals) > 1:
            best[header] = min(vals) if better == "min" else max(vals)
    return best


def _is_best(best: dict[str, Any], header: str, rec: Record, value: Any) -> bool:
    return header in best and value == best[header] and rec.get("status") == "ok"


def results_table(doc: dict[str, Any]) -> Table:
    records = sorted(doc["results"], key=sort_key)
    best = best_values(records)
    model = doc.get("model", {})
    title = f"{model.get('name', '?')} | profile {doc.get('profile', {}).get('name', '?')} | {doc.get('mode', '')} mode"
    # Text, not str: rich would read "[...]" in a model or variant name as markup (and fail on a stray "[/]").
    table = Table(title=Text(title), caption=Text(timing_scope_caption(doc)), show_lines=False)
    for col in ("runtime", "variant", "thr", "batch"):
        table.add_column(col, no_wrap=True)
    for header, *_ in COLUMNS:
        table.add_column(header, justify="right")
    table.add_column("status")
    previous = None
    for r in records:
        group = (r.get("runtime"), variant_label(r))
        if previous is not None and group[0] != previous[0]:
            table.add_section()
        cells: list[Any] = [Text(str(r.get("runtime", ""))),
                            Text(group[1] if group != previous else ""),
                            str(r.get("threads", "")), str(r.get("batch", 1))]
        previous = group
        for header, get, spec, _ in COLUMNS:
            v = get(r)
            text = _fmt(v, spec)
            cells.append(Text(text + " *", style="bold green") if _is_best(best, header, r, v) else text)
        cells.append(_status_cell(r))
        table.add_row(*cells)
    return table


def _status_cell(r: Record) -> Text:
    cell = _status_text(r)
    if r.get("recommended"):
        cell = Text("RECOMMENDED ", style="bold green") + cell
    notes = r.get("pass_notes") or []
    if notes:  # what the pass found (e.g. "nothing quantized") belongs next to the figures it explains
        cell.append(" | " + "; ".join(notes), style="dim")
    return cell


def _status_text(r: Record) -> Text:
    if r.get("status") != "ok":
        return Text(f"FAILED: {r.get('error') or '?'}", style="red")
    budget = r.get("accuracy_budget")
    if budget and within_budget(r) is False:
        return Text("over accuracy budget: " + "; ".join(budget.get("violations", [])), style="yellow")
    flags = r.get("warnings") or []
    head = "ok (screened)" if is_screened(r) else "ok"
    return Text(head + ("; unstable: " + "; ".join(flags) if flags else ""), style="green" if not flags else "yellow")


def environment_line(doc: dict[str, Any]) -> str:
    h = doc.get("host", {})
    pk = h.get("packages", {})
    versions = ", ".join(f"{k} {pk[k]}" for k in ("onnxruntime", "ai-edge-litert", "tensorflow-cpu", "tensorflow",
                                                  "tf2onnx") if k in pk)
    return (f"environment: {h.get('cpu_model', '?')}, {h.get('cores', '?')} cores, flags "
            f"{' '.join(h.get('kernel_flags', [])) or 'n/a'}, governor {h.get('governor') or 'n/a'}, "
            f"load {h.get('load_avg_start', ['?'])[0]}; {versions}")


def run_messages(doc: dict[str, Any]) -> list[str]:
    """The environment, then warnings, then notes, for printing under the table."""
    return ([environment_line(doc)] + [f"warning: {w}" for w in doc.get("warnings", [])]
            + [f"note: {n}" for n in doc.get("notes", [])])


def plain_table(doc: dict[str, Any]) -> str:
    """The same table as aligned plain text, for pipes, logs and NO_COLOR."""
    records = sorted(doc["results"], key=sort_key)
    best = best_values(records)
    header = ["runtime", "variant", "thr", "batch", *[h for h, *_ in COLUMNS], "status"]
    rows = [header]
    for r in records:
        row = [str(r.get("runtime", "")), variant_label(r), str(r.get("threads", "")), str(r.get("batch", 1))]
        # unmarked cells of a marked column get two spaces, so the digits stay aligned under right-justification
        row += [_fmt(get(r), spec) + (" *" if _is_best(best, h, r, get(r)) else "  " if h in best else "")
                for h, get, spec, _ in COLUMNS]
        row.append(_status_cell(r).plain)
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    model = doc.get("model", {})
    lines = [f"{model.get('name', '?')} | profile {doc.get('profile', {}).get('name', '?')} | {doc.get('mode', '')} mode"]
    for row in rows:
        cells = [c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells + [row[-1]]).rstrip())
    lines.append(timing_scope_caption(doc))
    if best:
        lines.append("* best value of its column")
    return "\n".join(lines)


def op_profile_text(doc: dict[str, Any], top: int = 8) -> str:
    """The operators that dominate each ONNX variant (from `bench run --op-profile`), as plain text."""
    lines = []
    for variant, prof in sorted((doc.get("op_profiles") or {}).items()):
        if "error" in prof:
            lines.append(f"operator profile {variant}: failed: {prof['error']}")
            continue
        lines.append(f"operator profile {variant} (ONNX Runtime, {prof.get('threads')} thread(s), "
                     f"{prof.get('node_time_ms_per_inference', 0):.3f} ms node time per inference; {prof.get('file')})")
        for op in prof.get("operators", [])[:top]:
            lines.append(f"  {op['op_type']:<24} {op['share']:6.1%}  {op['ms_per_inference']:.4f} ms  "
                         f"{op['nodes']} node(s)")
    return "\n".join(lines)


def print_table(console: Console, doc: dict[str, Any]) -> None:
    """The rich table on a colour terminal; aligned plain text for pipes, logs and NO_COLOR (https://no-color.org)."""
    if console.is_terminal and not os.environ.get("NO_COLOR"):
        console.print(results_table(doc))
    else:
        console.print(plain_table(doc), markup=False, highlight=False, soft_wrap=True)
