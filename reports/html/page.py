"""The shareable HTML report: loaded runs in, one self-contained HTML string out.

Every string that comes from a results file (model names, paths, hostnames, profile and variant names, errors,
warnings) is user data and goes through `e`. A Content-Security-Policy lets only the report's own scripts run
(by hash) and forbids network access, so even a missed escape could not execute or phone home.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from edgebench.reports.card.html import card_section
from edgebench.reports.fields import budget_violations, dig, fmt, record_warnings, text
from edgebench.reports.html.accuracy import accuracy_section
from edgebench.reports.html.charts import Chart, build_charts
from edgebench.reports.html.decision import decision_section, warning_count, warnings_section
from edgebench.reports.html.parity import SECTION_ID as PARITY_ID
from edgebench.reports.html.parity import parity_section
from edgebench.reports.html.parts import e, scope_badge, table
from edgebench.reports.machines import machine_matrix
from edgebench.reports.rundata import RunData, load_run_data
from edgebench.reports.runtime_pairs import runtime_pairs
from edgebench.reports.sizing.figures import sizing_charts
from edgebench.reports.sizing.html import sizing_section
from edgebench.reports.target_parity import parity_rows
from edgebench.reports.terminal.wide_table import COLUMNS, sort_key, variant_label
from edgebench.results.contract import write_text_atomic
from edgebench.results.record import Record
from edgebench.results.runtimes import runtime_name
from edgebench.results.selection import batch_of, is_ok, median_ms, within_budget

PLOTLY_MODES = ("embed", "cdn")
REPORT_FILE = "report.html"
# No "share to the cloud" button: a report's data stays with whoever holds the file.
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True,
                 "modeBarButtonsToRemove": ["sendChartToCloud", "sendDataToCloud"]}
_SCRIPT = re.compile(r"<script\b[^>]*>(.*?)</script>", re.S)

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#202124;background:#fafafa}
main{max-width:1280px;margin:0 auto;padding:1rem 1.5rem 4rem}
header{background:#202124;color:#fff;padding:1rem 1.5rem}header h1{margin:0;font-size:1.4rem}
header p{margin:.3rem 0 0;color:#c8c8c8;font-size:.9rem}
nav{font-size:.9rem;margin:.8rem 0}nav a{margin-right:1rem}
section{background:#fff;border:1px solid #e0e0e0;border-radius:6px;padding:.8rem 1rem;margin:1rem 0}
h2{font-size:1.15rem;margin:.2rem 0 .6rem}h3{font-size:1rem;margin:.8rem 0 .4rem}
table{border-collapse:collapse;font-size:.85rem;margin:.3rem 0}
th,td{border-bottom:1px solid #e8e8e8;padding:.25rem .5rem;text-align:left;vertical-align:top}
table.records td{white-space:nowrap}table.records td.st{white-space:normal;min-width:18rem}
th{background:#f1f3f4;position:sticky;top:0}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.best{color:#0b8043;font-weight:700}td.best::after{content:" \\2605"}
.scroll{overflow-x:auto;max-height:70vh}
.warn{background:#fef7e0;border-left:4px solid #f9ab00;padding:.3rem .6rem;margin:.3rem 0}
.bad{background:#fce8e6;border-left:4px solid #d93025;padding:.3rem .6rem;margin:.3rem 0}
.info{color:#5f6368;margin:.3rem 0}
.badge{display:inline-block;border-radius:3px;padding:0 .35rem;font-size:.75rem;font-weight:700}
.badge.host{background:#fce8e6;color:#a50e0e}.badge.target{background:#e6f4ea;color:#0b8043}
.rec{font-size:1rem;margin:.3rem 0}.muted{color:#5f6368}
.pick{font-size:1.1rem;font-weight:700;margin:.5rem 0 .2rem}ul.why{margin:.2rem 0 .6rem;padding-left:1.4rem}
.decision-run{margin-bottom:1.2rem}details.wgroup summary{font-weight:400}details.wgroup ul{margin:.3rem 0 .3rem 1.2rem}
details{margin:.4rem 0}summary{cursor:pointer;font-weight:600}
table.kv td:first-child{color:#5f6368;white-space:nowrap}
code,.mono{font-family:ui-monospace,Menlo,monospace;font-size:.8rem}
.envs{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:1rem;align-items:start}
.chart-note{color:#5f6368;font-size:.85rem;margin:.2rem 0 .4rem}
"""


def _csp_hash(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode() + "'"


def _chart_html(chart: Chart, include_plotlyjs: bool | str) -> str:
    import plotly.io as pio

    div = pio.to_html(chart.figure, full_html=False, include_plotlyjs=include_plotlyjs, div_id=f"fig-{chart.key}",
                      default_width="100%", default_height=f"{chart.height}px",
                      config=PLOTLY_CONFIG)
    note = f'<p class="chart-note">{e(chart.note)}</p>' if chart.note else ""
    return (f'<section id="{e(chart.key)}" class="chart" data-chart="{e(chart.key)}">'
            f"<h2>{e(chart.title)}</h2>{note}{div}</section>")


def _status(rec: Record) -> str:
    if rec.get("status") != "ok":
        return f'<span class="bad">FAILED: {e(rec.get("error") or "?")}</span>'
    out = []
    if within_budget(rec) is False:
        out.append(f'<span class="warn">over accuracy budget: {e("; ".join(budget_violations(rec)))}</span>')
    out += [f'<span class="warn">{e(w)}</span>' for w in record_warnings(rec)]
    return "".join(out) or "ok"


# The terminal table's columns, with significant digits instead of fixed decimals: microsecond models exist.
_HTML_SPECS = {"median ms": ".4g", "p90 ms": ".4g", "p99 ms": ".4g", "stdev": ".3g", "size MB": ".3g"}


def _records_table(runs: Sequence[RunData]) -> str:
    multi = len(runs) > 1
    head = (["run"] if multi else []) + ["runtime", "variant", "threads", "batch", "n"] + [c[0] for c in COLUMNS] + \
        ["timing", "status"]
    rows = []
    for run in runs:
        records = sorted(run.records, key=sort_key)
        ok = [r for r in records if is_ok(r)]
        best = {}
        for header, get, _, better in COLUMNS:  # best per run: different machines are not one contest
            vals = [v for v in (_safe_get(get, r) for r in ok) if v is not None]
            if better and len(vals) > 1:
                best[header] = min(vals) if better == "min" else max(vals)
        for r in records:
            cells = ([f"<td>{e(run.label)}</td>"] if multi else []) + [
                f"<td>{e(runtime_name(r.get('runtime')))}</td>", f"<td>{e(variant_label(r))}</td>",
                f'<td class="n">{e(r.get("threads"))}</td>', f'<td class="n">{batch_of(r)}</td>',
                f'<td class="n">{e(fmt(dig(r, "latency_ms", "n"), ".0f"))}</td>']
            for header, get, spec, _ in COLUMNS:
                v = _safe_get(get, r)
                cls = "n best" if header in best and v == best[header] and is_ok(r) else "n"
                cells.append(f'<td class="{cls}">{e(fmt(v, _HTML_SPECS.get(header, spec)))}</td>')
            cells += [f"<td>{scope_badge(run, r)}</td>", f'<td class="st">{_status(r)}</td>']
            rows.append("<tr>" + "".join(cells) + "</tr>")
    return ('<section id="records"><h2>Every record</h2><p class="muted">&#9733; marks the best value of a column '
            "within its run. Latencies are per inference call (one batch).</p>" + table(head, rows, "records") +
            "</section>")


def _safe_get(get: Callable[[Record], Any], rec: Record) -> float | None:
    try:
        v = get(rec)
    except (TypeError, KeyError, AttributeError):  # a field of an unexpected shape shows as "-"
        return None
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) and v == v else None


def _runtime_table(runs: Sequence[RunData]) -> str:
    rows = []
    for run in runs:
        for p in runtime_pairs(run.records):
            ratio = p.ratio
            verdict = "-" if ratio is None else (f"ONNX Runtime {ratio:.2f}x faster" if ratio > 1.0
                                                 else f"LiteRT {1 / ratio:.2f}x faster" if ratio < 1.0 else "equal")
            cells = [e(run.label), e(p.family), str(p.threads), str(p.batch)]
            for rec in (p.litert, p.onnxruntime):
                cells += [e(variant_label(rec)) if rec else "-", e(fmt(median_ms(rec))) if rec else "-"]
            cells.append(e(verdict))
            rows.append("<tr>" + "".join(f'<td class="{"n" if i in (2, 3, 5, 7) else ""}">{c}</td>'
                                         for i, c in enumerate(cells)) + "</tr>")
    return table(["run", "precision", "threads", "batch", "LiteRT variant", "LiteRT median ms", "ORT variant",
                   "ORT median ms", "verdict"], rows)


def _machines_table(runs: Sequence[RunData]) -> str:
    """One column per machine (a fleet, or runs of several machines merged), when more than one timed records."""
    matrix = machine_matrix(runs)
    if matrix is None:
        return ""
    rows = []
    for (runtime, variant, threads, batch), medians in matrix.rows:
        cells = [e(runtime), e(variant), str(threads), str(batch)]
        cells += [e(fmt(medians.get(m), ".4g")) if m in medians else "-" for m in matrix.machines]
        rows.append("<tr>" + "".join(f'<td class="{"n" if i > 1 else ""}">{c}</td>' for i, c in enumerate(cells))
                    + "</tr>")
    return ('<section id="machines"><h2>Machines side by side</h2><p class="muted">Median ms per inference call, one '
            "column per machine that timed the benchmark (HOST: not the profile's target architecture).</p>"
            + table(["runtime", "variant", "threads", "batch", *matrix.machines], rows, "machines")
            + "</section>")


def _kv(value: Any, depth: int = 0) -> str:
    """A nested mapping as nested key/value tables; lists of scalars inline, other values as escaped JSON."""
    if isinstance(value, dict):
        if not value:
            return '<span class="muted">-</span>'
        rows = "".join(f"<tr><td>{e(k)}</td><td>{_kv(v, depth + 1)}</td></tr>" for k, v in value.items()
                       if not str(k).startswith("_"))
        return f'<table class="kv">{rows}</table>'
    if isinstance(value, list):
        if all(not isinstance(v, (dict, list)) for v in value):
            return e(", ".join(text(v, "null") for v in value)) or '<span class="muted">-</span>'
        return "".join(f"<div>{_kv(v, depth + 1)}</div>" for v in value)
    if value is None:
        return '<span class="muted">-</span>'
    return f'<span class="mono">{e(value)}</span>'


def _environment(runs: Sequence[RunData]) -> str:
    # side by side, so that two machines' settings can be compared line by line
    parts = ['<section id="environment"><h2>Environment and settings of each run</h2><div class="envs">']
    for run in runs:
        doc = run.doc
        settings: dict[str, Any] = {}
        for r in run.records:
            if isinstance(r.get("runtime_settings"), dict):
                settings.setdefault(runtime_name(r.get("runtime")), r["runtime_settings"])
        run_info = {"results file": run.source, "created": doc.get("created"), "mode": doc.get("mode"),
                    "schema_version": doc.get("schema_version"), "tool": doc.get("tool")}
        blocks = [("run", run_info), ("model", doc.get("model")), ("data", doc.get("data")),
                  ("profile", doc.get("profile")), ("runtime settings used", settings), ("host", doc.get("host"))]
        inner = "".join(f"<h3>{e(name)}</h3>{_kv(val)}" for name, val in blocks)
        parts.append(f"<details open><summary>{e(run.label)}</summary>{inner}</details>")
    return "".join(parts) + "</div></section>"


def render_report(runs: Sequence[RunData], plotly: str = "embed", generated: str | None = None) -> str:
    """The whole report for one or more runs as one HTML document (plotly.js embedded, or loaded from its CDN)."""
    if plotly not in PLOTLY_MODES:
        raise ValueError(f"plotly must be one of {PLOTLY_MODES}, not {plotly!r}")
    if not runs:
        raise ValueError("a report needs at least one run")
    charts = build_charts(runs) + sizing_charts(runs)
    chart_html = [_chart_html(c, (True if plotly == "embed" else "cdn") if i == 0 else False)
                  for i, c in enumerate(charts)]
    fallback = ("if(!window.Plotly){var n=document.getElementById('no-plotly');if(n){n.hidden=false;}}")
    scripts = [m.group(1) for chunk in chart_html for m in _SCRIPT.finditer(chunk)] + [fallback]
    script_src = " ".join(sorted({_csp_hash(s) for s in scripts}))
    if plotly == "cdn":
        script_src += " https://cdn.plot.ly"
    # Only scripts whose hashes are listed run (no 'unsafe-inline', no 'unsafe-eval': plotly draws, hovers, zooms
    # and exports PNGs without them); default-src 'none' keeps the page off the network. Plotly sets inline
    # styles, hence style-src 'unsafe-inline', which cannot run code.
    csp = (f"default-src 'none'; script-src {script_src}; style-src 'unsafe-inline'; "
           "img-src data: blob:; font-src data:")
    models = sorted({text(dig(r.doc, "model", "name"), "?") for r in runs})
    version = text(dig(runs[0].doc, "tool", "version"), "?")
    generated = generated or dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    nav = "".join(f'<a href="#{k}">{e(t)}</a>' for k, t in [
        ("decision", "Decision"), ("warnings", "Warnings"), *[(c.key, c.short) for c in charts],
        ("runtime-table", "LiteRT vs ORT table"),
        *([(PARITY_ID, "Target parity")] if any(parity_rows(r.records) for r in runs) else []),
        ("records", "Every record"), ("environment", "Environment")])
    n_warn = warning_count(runs)
    card = card_section(runs)
    if card:
        nav = nav.replace('<a href="#records">', '<a href="#card">Deployment card</a><a href="#records">')
    body = [
        f"<header><h1>edgebench report: {e(', '.join(models))}</h1>"
        f"<p>{len(runs)} run{'s' * (len(runs) != 1)}: {e(' | '.join(r.label for r in runs))}. Generated {e(generated)} "
        f"by edgebench {e(version)}.{' ' + str(n_warn) + ' warning(s): see below.' if n_warn else ''}</p></header>",
        "<main>",
        '<div id="no-plotly" class="bad" hidden>plotly.js did not load, so the charts are missing: this report '
        "loads it from the plotly CDN (--plotly cdn). Open it online, or make it again with --plotly embed.</div>",
        "<noscript><div class=\"bad\">The charts need JavaScript; the tables below do not.</div></noscript>",
        f"<nav>{nav}</nav>",
        decision_section(runs),  # the answer first, the evidence after it
        sizing_section(runs),
        warnings_section(runs),
        *chart_html,
        '<section id="runtime-table"><h2>LiteRT vs ONNX Runtime: numbers</h2><p class="muted">The fastest variant of '
        "each precision on each runtime (within the accuracy budget when one qualifies); ratio of the medians.</p>"
        + _runtime_table(runs) + "</section>",
        parity_section(runs) + accuracy_section(runs),
        card,
        _records_table(runs),
        _machines_table(runs),
        _environment(runs),
        "</main>",
        f"<script>{fallback}</script>",
    ]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{e(csp)}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>edgebench report: {e(', '.join(models))}</title><style>{CSS}</style></head><body>"
            + "\n".join(body) + "</body></html>\n")


def write_report(paths: Sequence[str | Path], output: str | Path, plotly: str = "embed") -> Path:
    """Load the runs at `paths`, render them into one report, and write it to `output` atomically."""
    return write_text_atomic(output, render_report(load_run_data(paths), plotly=plotly))

