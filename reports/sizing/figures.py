"""The sizing charts of the report, from each run's sizing.json (data in, plotly figures out).

Per run, its latest sizing: the percentile vs offered load of every layout with the SLO line, measured points
(filled VALID, open INVALID) beside the simulation's prediction (dashed) and the capacity (the knee) marked; the
interference curve; measured vs predicted capacity per layout. Strings from the file are escaped (`_t`).
"""
from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go
from plotly.colors import qualitative

from edgebench.reports.html.charts import Chart
from edgebench.reports.rundata import RunData
from edgebench.reports.sizing.checks import capacity_scatter
from edgebench.results.errors import ResultsError
from edgebench.results.runtimes import short_runtime_name
from edgebench.results.sizing import load_sizing

TEMPLATE = "plotly_white"
PALETTE = tuple(qualitative.Dark24)  # a layout per colour: ten layouts (3 variants x 2 cores) must not share one


def _t(value: Any) -> str:
    return html.escape(str(value), quote=True)


def latest_sizings(runs: Sequence[RunData]) -> list[tuple[RunData, dict[str, Any]]]:
    """(run, its latest sizing entry) for every run that has a sizing.json with an entry."""
    out = []
    for run in runs:
        try:
            doc = load_sizing(run.source)
        except ResultsError:  # a damaged sizing.json must not cost the user the rest of the report
            continue
        if doc and doc["sizings"]:
            out.append((run, doc["sizings"][-1]))
    return out


def _layouts(entry: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(f"{c.get('variant')} {short_runtime_name(c.get('runtime'))} {lay.get('layout')}", lay)
            for c in entry.get("candidates", []) for lay in c.get("layouts", [])]


def _layout(fig: go.Figure, height: int, **kw: Any) -> None:
    fig.update_layout(template=TEMPLATE, height=height, margin=dict(l=10, r=10, t=40, b=40), **kw)


def load_chart(sized: list[tuple[RunData, dict[str, Any]]]) -> Chart:
    fig = go.Figure()
    bound, pct = None, 99.0
    seen: list[float] = []  # measured percentiles: the axis is theirs (an overloaded simulation grows without end)
    for run, entry in sized:
        pct, bound = entry["slo"]["percentile"] * 100, entry["slo"]["bound_ms"]
        prefix = f"{run.label} | " if len(sized) > 1 else ""
        for i, (name, lay) in enumerate(_layouts(entry)):
            color = PALETTE[i % len(PALETTE)]
            pts = sorted((p for p in lay.get("points") or [] if p.get("percentile_ms") is not None),
                         key=lambda p: p["rate"])
            seen += [p["percentile_ms"] for p in pts if p["percentile_ms"] > 0]
            if pts:
                fig.add_trace(go.Scatter(
                    x=[p["rate"] for p in pts], y=[p["percentile_ms"] for p in pts], mode="lines+markers",
                    name=_t(f"{prefix}{name} measured"), line=dict(color=color),
                    marker=dict(size=9, color=color, symbol=["circle" if p["valid"] else "circle-open" for p in pts]),
                    hovertext=[_t(p.get("reason") or "VALID") for p in pts]))
            pred = sorted((lay.get("predicted") or {}).get("points") or [], key=lambda q: q["rate"])
            if pred:
                fig.add_trace(go.Scatter(x=[q["rate"] for q in pred], y=[q["predicted_ms"] for q in pred],
                                         mode="lines", line=dict(color=color, dash="dash"),
                                         name=_t(f"{prefix}{name} predicted")))
            if lay.get("capacity"):
                fig.add_vline(x=lay["capacity"], line=dict(color=color, dash="dot", width=1))
    rates = [x for tr in fig.data for x in (tr.x or [])]
    if bound is not None and rates:  # a trace, not a shape annotation: plotly misplaces those on a log axis
        fig.add_trace(go.Scatter(x=[0, max(rates) * 1.1], y=[bound, bound], mode="lines",
                                 line=dict(color="#d93025", width=2), name=_t(f"SLO p{pct:g} {bound:g} ms")))
    if bound is not None:
        seen.append(bound)
    span = [math.log10(min(seen) / 2), math.log10(max(seen) * 3)] if seen else None
    _layout(fig, 460, xaxis=dict(title="offered load (req/s)"),
            yaxis=dict(title=f"p{pct:g} latency from scheduled arrival (ms)", type="log", range=span))
    return Chart("sizing-load", "Sizing: latency vs load",
                 "Sizing: latency percentile vs offered load per layout (filled = VALID, open = INVALID, dashed = "
                 "predicted, dotted = capacity)", fig, 460,
                 "Open-loop Poisson load by MLPerf LoadGen; points where the generator fell behind show no percentile.")


def interference_chart(sized: list[tuple[RunData, dict[str, Any]]]) -> Chart:
    fig = go.Figure()
    for run, entry in sized:
        prefix = f"{run.label} | " if len(sized) > 1 else ""
        for i, (name, lay) in enumerate(_layouts(entry)):
            curve = lay.get("interference") or []
            if len(curve) < 2:
                continue
            fig.add_trace(go.Scatter(x=[c["busy"] for c in curve], y=[c["mean_ms"] for c in curve],
                                     mode="lines+markers", name=_t(f"{prefix}{name} mean"),
                                     line=dict(color=PALETTE[i % len(PALETTE)])))
            fig.add_trace(go.Scatter(x=[c["busy"] for c in curve], y=[c["p99_ms"] for c in curve],
                                     mode="lines+markers", name=_t(f"{prefix}{name} p99"),
                                     line=dict(color=PALETTE[i % len(PALETTE)], dash="dot")))
    _layout(fig, 360, xaxis=dict(title="instances busy at once (closed loop)", dtick=1),
            yaxis=dict(title="service time per request (ms)"))
    return Chart("sizing-interference", "Sizing: interference",
                 "Sizing: service time with k instances busy (how instances slow each other down)", fig, 360)


def capacity_chart(sized: list[tuple[RunData, dict[str, Any]]]) -> Chart:
    fig = go.Figure()
    names, measured, predicted = [], [], []
    for run, entry in sized:
        prefix = f"{run.label} | " if len(sized) > 1 else ""
        for name, lay in _layouts(entry):
            names.append(_t(prefix + name))
            measured.append(lay.get("capacity") or 0)
            predicted.append((lay.get("predicted") or {}).get("capacity") or 0)
    fig.add_trace(go.Bar(y=names, x=measured, orientation="h", name="measured (highest VALID rate)",
                         marker_color="#1a73e8"))
    fig.add_trace(go.Bar(y=names, x=predicted, orientation="h", name="predicted (M/G/c simulation)",
                         marker_color="#9aa0a6"))
    rate = sized[-1][1]["rate"] if sized else None
    if rate:
        fig.add_vline(x=rate, line=dict(color="#d93025", width=2), annotation_text=_t(f"rate {rate:g} req/s"))
    height = max(260, 80 + 40 * len(names))
    _layout(fig, height, barmode="group", xaxis=dict(title="capacity at the SLO (req/s)"),
            yaxis=dict(autorange="reversed", automargin=True))
    return Chart("sizing-capacity", "Sizing: capacity", "Sizing: capacity per layout, measured vs predicted",
                 fig, height, None)


def checks_chart(sized: list[tuple[RunData, dict[str, Any]]]) -> Chart:
    return Chart("sizing-checks", "Sizing: model checks", "Sizing: predicted vs measured capacity, every layout "
                 "(bars: 90% bootstrap interval)", capacity_scatter(sized), 420, None)


def sizing_charts(runs: Sequence[RunData]) -> list[Chart]:
    """The sizing charts, or none when no run has a sizing."""
    sized = latest_sizings(runs)
    if not sized:
        return []
    charts = [load_chart(sized), interference_chart(sized), capacity_chart(sized), checks_chart(sized)]
    return [c for c in charts if c.figure.data]
