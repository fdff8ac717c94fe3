"""The report's plotly figures, built from loaded runs (data in, figures out; no HTML page here).

Plotly renders a subset of HTML inside text (titles, tick labels, legend entries, hover), so every string that
comes from a results file goes through `_t`, which escapes it; plotly shows the entities as the literal characters.
"""
from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from edgebench.reports.fields import accuracy_metric, dig_num, num
from edgebench.reports.pareto import pareto_front
from edgebench.reports.rundata import RunData
from edgebench.reports.runtime_pairs import runtime_pairs
from edgebench.reports.terminal.wide_table import variant_label
from edgebench.results.record import Record
from edgebench.results.runtimes import runtime_name, short_runtime_name
from edgebench.results.selection import batch_of, is_ok, median_ms, threads_of, within_budget

RUNTIME_COLORS = {"litert": "#e8710a", "onnxruntime": "#1a73e8"}
OTHER_COLOR = "#7f7f7f"
RUN_SYMBOLS = ("circle", "diamond", "square", "triangle-up", "cross", "x", "star", "hexagon")
TEMPLATE = "plotly_white"
LOG_SPREAD = 30.0  # above this max/min ratio a linear axis squashes the fast variants into one pixel


@dataclass
class Chart:
    key: str  # stable id, used for the section anchor and by the browser tests
    short: str  # the name in the page's navigation
    title: str
    figure: go.Figure
    height: int
    note: str | None = None  # plain text shown above the chart (escaped by the page)


def _t(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _color(runtime: Any) -> str:
    return RUNTIME_COLORS.get(str(runtime), OTHER_COLOR)


def record_label(run: RunData, rec: Record, multi: bool) -> str:
    """Unescaped label of one record; `multi` adds the run label when several runs share a chart."""
    label = f"{short_runtime_name(rec.get('runtime'))} {variant_label(rec)} t{threads_of(rec)} b{batch_of(rec)}"
    return f"{label} | {run.label}" if multi else label


def _sorted(records: Sequence[Record]) -> list[Record]:
    return sorted(records, key=lambda r: (str(r.get("runtime")), variant_label(r), threads_of(r), batch_of(r)))


def _axis_type(values: Sequence[float | None]) -> str:
    pos = [v for v in values if v and v > 0]
    return "log" if pos and max(pos) / min(pos) > LOG_SPREAD else "linear"


def _layout(fig: go.Figure, height: int, **kw: Any) -> None:
    # The legend stays at plotly's default place (right): it widens the margin itself and never covers titles.
    fig.update_layout(template=TEMPLATE, height=height, margin=dict(l=10, r=10, t=40, b=40), **kw)


def latency_distributions(runs: Sequence[RunData]) -> Chart:
    multi = len(runs) > 1
    fig = go.Figure()
    missing: list[str] = []
    all_values: list[float] = []
    count = 0
    for run in runs:
        for rec in _sorted([r for r in run.records if is_ok(r)]):
            samples = run.samples_for(rec)
            if not samples:
                missing.append(record_label(run, rec, multi))
                continue
            # 5 significant digits keep the file small and are far below the timer's noise.
            values = [float(f"{v:.5g}") for v in samples]
            all_values += values
            rt = str(rec.get("runtime"))
            fig.add_trace(go.Box(x=values, name=_t(record_label(run, rec, multi)), orientation="h",
                                 marker_color=_color(rt), boxpoints="outliers", boxmean=True,
                                 showlegend=False))
            count += 1
    height = max(260, 90 + 34 * count)
    _layout(fig, height, xaxis=dict(title="latency per inference call (ms), raw pyperf samples",
                                    type=_axis_type(all_values)),
            yaxis=dict(autorange="reversed", automargin=True))
    notes = [run.samples_note for run in runs if run.samples_note]
    if missing:
        notes.append("no raw samples for: " + ", ".join(missing))
    if not count:
        notes.append("no raw latency samples to show")
    return Chart("latency", "Latency distributions",
                 "Latency distributions (raw samples per benchmark; box = quartiles, dashed = mean)",
                 fig, height, "; ".join(notes) or None)


def accuracy_vs_latency(runs: Sequence[RunData]) -> Chart:
    multi = len(runs) > 1
    fig = go.Figure()
    metric = accuracy_metric([[r for r in run.records if is_ok(r)] for run in runs])
    ys: list[float] = []
    notes: list[str] = []
    if metric is None:
        notes.append("no accuracy figures in these results (no reference outputs)")
    else:
        key, label = metric
        for i, run in enumerate(runs):
            ok = [r for r in run.records if is_ok(r) and dig_num(r, "accuracy", key) is not None]
            if not ok:
                continue
            # Latency at different batch sizes is not comparable: use the smallest batch the run measured.
            smallest = min(batch_of(r) for r in ok)
            pts = [r for r in ok if batch_of(r) == smallest]
            symbol = RUN_SYMBOLS[i % len(RUN_SYMBOLS)]
            for rt in sorted({str(r.get("runtime")) for r in pts}):
                mine = _sorted([r for r in pts if str(r.get("runtime")) == rt])
                fig.add_trace(go.Scatter(
                    x=[median_ms(r) for r in mine], y=[dig_num(r, "accuracy", key) for r in mine], mode="markers",
                    name=_t(f"{runtime_name(rt)}" + (f" | {run.label}" if multi else "")),
                    marker=dict(color=_color(rt), size=11, line=dict(width=1.5, color=_color(rt)),
                                symbol=[symbol if within_budget(r) is not False else f"{symbol}-open" for r in mine]),
                    text=[_t(record_label(run, r, multi)) for r in mine],
                    customdata=[("within budget" if within_budget(r) else "OVER the accuracy budget"
                                 if within_budget(r) is False else "budget not checked") for r in mine],
                    hovertemplate="%{text}<br>%{x:.4g} ms median<br>" + _t(label) + " %{y:.4g}<br>%{customdata}"
                                  "<extra></extra>"))
            ys += [y for r in pts if (y := dig_num(r, "accuracy", key)) is not None]
            ys += _search_steps(fig, run, key, symbol, multi)
            front = [pts[j] for j in pareto_front([(median_ms(r) or math.inf, dig_num(r, "accuracy", key) or 0.0)
                                                   for r in pts])]
            fig.add_trace(go.Scatter(
                x=[median_ms(r) for r in front], y=[dig_num(r, "accuracy", key) for r in front],
                # labels only for one run: several runs' fronts often share points and the labels would overprint
                mode="lines" if multi else "lines+text", line=dict(dash="dash", color="#444", shape="hv"),
                text=[_t(f"{variant_label(r)} t{threads_of(r)}") for r in front], textposition="top right",
                name=_t("Pareto front" + (f" | {run.label}" if multi else "")), hoverinfo="skip"))
        xs = [median_ms(r) for run in runs for r in run.records if is_ok(r)]
        _layout(fig, 440, xaxis=dict(title="median latency (ms) at the smallest batch measured", type=_axis_type(xs)),
                yaxis=dict(title=_t(label), range=_accuracy_range(ys)))
        notes.append(f"accuracy = {label}; open markers break the profile's accuracy budget"
                     + ("; small markers are the mixed-precision search's candidates (k layers kept in float; "
                        "screening latency, batch 1, the run's first thread count)"
                        if any(run.doc.get("mixed_search") for run in runs) else ""))
    if metric is None:
        _layout(fig, 300)
    return Chart("pareto", "Accuracy vs latency", "Accuracy vs latency, with the Pareto front", fig,
                 440 if metric else 300,
                 "; ".join(notes))


def _search_steps(fig: go.Figure, run: RunData, key: str, symbol: str, multi: bool) -> list[float]:
    """The mixed-precision search's candidates (results.json `mixed_search`, per runtime) as small markers beside the
    variants: where each number of layers kept in float lands between full int8 and fp32. Returns their accuracies."""
    ys: list[float] = []
    searches = run.doc.get("mixed_search")
    for rt, info in sorted(searches.items()) if isinstance(searches, dict) else []:
        pts = []
        for step in (info.get("steps") if isinstance(info, dict) else None) or []:
            figs = step.get("figures") if isinstance(step, dict) else None
            acc = [num(v) for k, v in (figs or {}).items() if str(k).endswith(f" {key}")]
            if acc and acc[0] is not None and num(step.get("latency_ms")) is not None:
                pts.append((num(step.get("latency_ms")), min(a for a in acc if a is not None), step))
        if not pts:
            continue
        fig.add_trace(go.Scatter(
            x=[p[0] for p in pts], y=[p[1] for p in pts], mode="markers+text" if not multi else "markers",
            name=_t(f"{runtime_name(rt)} mixed search" + (f" | {run.label}" if multi else "")),
            marker=dict(color=_color(rt), size=7, symbol=[symbol if p[2].get("within_budget") else f"{symbol}-open"
                                                          for p in pts]),
            text=[_t(f"k={p[2].get('size')}") for p in pts], textposition="bottom center",
            hovertemplate="%{text} layer(s) in float<br>%{x:.4g} ms screening median<br>%{y:.4g}<extra></extra>"))
        ys += [p[1] for p in pts]
    return ys


def _accuracy_range(ys: list[float]) -> list[float] | None:
    # Plotly pads a flat series to [0, 2], far from any accuracy: keep the axis near the data.
    if not ys:
        return None
    lo, hi = min(ys), max(ys)
    pad = max(0.01, (hi - lo) * 0.1)
    return [lo - pad, hi + pad]


def memory_and_size(runs: Sequence[RunData]) -> Chart:
    multi = len(runs) > 1
    mem_rows = [(run, r) for run in runs for r in _sorted(run.records) if num(r.get("peak_rss_mb")) is not None]
    size_rows: dict[str, tuple[Any, float]] = {}
    for run in runs:
        for r in _sorted(run.records):
            b = num(r.get("model_bytes"))
            if b is not None:
                name = f"{short_runtime_name(r.get('runtime'))} {variant_label(r)}" + (f" | {run.label}" if multi else "")
                size_rows.setdefault(name, (r.get("runtime"), b / 1e6))
    n_mem, n_size = max(len(mem_rows), 1), max(len(size_rows), 1)
    fig = make_subplots(rows=2, cols=1, row_heights=[n_mem, n_size], vertical_spacing=0.12,
                        subplot_titles=("peak RSS of the worker (MB): runtime after import + model and inference",
                                        "model file size (MB)"))
    labels = [_t(record_label(run, r, multi)) for run, r in mem_rows]
    fig.add_trace(go.Bar(y=labels, x=[dig_num(r, "memory", "rss_after_import_mb") or 0 for _, r in mem_rows],
                         orientation="h", name="runtime after import", marker_color="#c8c8c8",
                         hovertemplate="%{y}: runtime after import %{x:.1f} MB<extra></extra>"), row=1, col=1)
    fig.add_trace(go.Bar(y=labels, x=[num(r.get("peak_rss_mb")) for _, r in mem_rows], orientation="h",
                         name="model + inference (colour: runtime)",
                         marker_color=[_color(r.get("runtime")) for _, r in mem_rows],
                         hovertemplate="%{y}: model + inference %{x:.1f} MB<extra></extra>"), row=1, col=1)
    fig.add_trace(go.Bar(y=[_t(k) for k in size_rows], x=[v[1] for v in size_rows.values()], orientation="h",
                         name="model file", marker_color=[_color(v[0]) for v in size_rows.values()],
                         hovertemplate="%{y}: %{x:.4g} MB<extra></extra>", showlegend=False), row=2, col=1)
    height = 160 + 30 * (n_mem + n_size)
    _layout(fig, height, barmode="stack")
    fig.update_yaxes(autorange="reversed", automargin=True)
    note = None if mem_rows else "no memory figures in these results"
    return Chart("memory", "Memory and size", "Memory and model size", fig, height, note)


def scaling(runs: Sequence[RunData]) -> Chart:
    multi = len(runs) > 1
    fig = make_subplots(rows=1, cols=2, subplot_titles=("median latency (ms) vs threads",
                                                        "throughput (items/s) vs batch"))
    notes = []
    threads_seen, batches_seen, lat = set(), set(), []
    for i, run in enumerate(runs):
        ok = [r for r in run.records if is_ok(r)]
        symbol = RUN_SYMBOLS[i % len(RUN_SYMBOLS)]
        groups: dict[tuple[str, str], list[Record]] = {}
        for r in ok:
            groups.setdefault((str(r.get("runtime")), variant_label(r)), []).append(r)
            threads_seen.add(threads_of(r))
            batches_seen.add(batch_of(r))
        for (rt, variant), recs in sorted(groups.items()):
            base = f"{short_runtime_name(rt)} {variant}" + (f" | {run.label}" if multi else "")
            b0 = min(batch_of(r) for r in recs)
            by_t = sorted((r for r in recs if batch_of(r) == b0), key=threads_of)
            lat += [median_ms(r) for r in by_t]
            fig.add_trace(go.Scatter(x=[threads_of(r) for r in by_t], y=[median_ms(r) for r in by_t],
                                     mode="lines+markers", name=_t(f"{base} b{b0}"), legendgroup=_t(base),
                                     marker=dict(symbol=symbol, size=9), line=dict(color=_color(rt)),
                                     hovertemplate="%{x} threads: %{y:.4g} ms<extra>" + _t(base) + "</extra>"),
                          row=1, col=1)
            for t in sorted({threads_of(r) for r in recs}):
                by_b = sorted((r for r in recs if threads_of(r) == t and num(r.get("throughput_ips"))), key=batch_of)
                if not by_b:
                    continue
                fig.add_trace(go.Scatter(x=[batch_of(r) for r in by_b], y=[num(r.get("throughput_ips")) for r in by_b],
                                         mode="lines+markers", name=_t(f"{base} t{t}"), legendgroup=_t(base),
                                         marker=dict(symbol=symbol, size=9),
                                         line=dict(color=_color(rt), dash="solid" if t == min(threads_seen) else "dot"),
                                         hovertemplate="batch %{x}: %{y:,.0f} items/s<extra>" + _t(base)
                                         + f" t{t}</extra>"),
                              row=1, col=2)
    if len(threads_seen) < 2:
        notes.append("one thread count measured: run with --threads 1,2 (or more) to see thread scaling")
    if len(batches_seen) < 2:
        notes.append("one batch size measured: run with --batch 1,8 (or more) to see batch scaling")
    _layout(fig, 420)
    fig.update_xaxes(title_text="threads", tickvals=sorted(threads_seen), row=1, col=1)
    fig.update_xaxes(title_text="batch", tickvals=sorted(batches_seen),
                     type="log" if len(batches_seen) > 2 else "linear", row=1, col=2)
    fig.update_yaxes(type=_axis_type(lat), row=1, col=1)
    return Chart("scaling", "Scaling", "Thread and batch scaling", fig, 420, "; ".join(notes) or None)


def runtime_comparison(runs: Sequence[RunData]) -> Chart:
    multi = len(runs) > 1
    cats: list[str] = []
    sides: dict[str, list[tuple[float | None, str]]] = {"litert": [], "onnxruntime": []}
    for run in runs:
        for pair in runtime_pairs(run.records):
            cats.append(_t(f"{pair.family} t{pair.threads} b{pair.batch}" + (f" | {run.label}" if multi else "")))
            for rt in sides:
                rec = getattr(pair, rt)
                sides[rt].append((median_ms(rec), _t(variant_label(rec))) if rec else (None, ""))
    fig = go.Figure()
    for rt, vals in sides.items():
        fig.add_trace(go.Bar(x=cats, y=[v[0] for v in vals], text=[v[1] for v in vals], name=runtime_name(rt),
                             marker_color=_color(rt), textposition="inside", insidetextanchor="start",
                             hovertemplate="%{x}<br>%{text}: %{y:.4g} ms median<extra>" + runtime_name(rt)
                             + "</extra>"))
    values = [v[0] for vals in sides.values() for v in vals if v[0] is not None]
    _layout(fig, 420, barmode="group", yaxis=dict(title="median latency (ms)", type=_axis_type(values)),
            xaxis=dict(title="precision, threads, batch", automargin=True))
    note = None if cats else "no measured variants to compare"
    return Chart("runtimes", "LiteRT vs ONNX Runtime",
                 "LiteRT vs ONNX Runtime, variant for variant (fastest of each precision)", fig, 420,
                 note)


def build_charts(runs: Sequence[RunData]) -> list[Chart]:
    return [latency_distributions(runs), accuracy_vs_latency(runs), memory_and_size(runs), scaling(runs),
            runtime_comparison(runs)]
