"""Words and a chart for the model's checks (sizing.json "checks"): the worst miss over every measured layout,
whether the prediction can be trusted on this run, and the whole predicted-vs-measured table."""
from __future__ import annotations

import html
from typing import Any

import plotly.graph_objects as go


def _pct(value: Any) -> str:
    return f"{value * 100:+.1f}%" if isinstance(value, (int, float)) else "-"


def _n(value: Any, spec: str = ".0f") -> str:
    return format(value, spec) if isinstance(value, (int, float)) else "-"


def span_text(iv: Any, spec: str = ".0f") -> str:
    return f"[{_n(iv[0], spec)}, {_n(iv[1], spec)}]" if isinstance(iv, list) and len(iv) == 2 else "-"


def worst_text(rec: dict[str, Any]) -> str:
    """The model's worst miss over every measured layout (and the 1-core-to-2-core checks), as the label of a
    predicted number."""
    n = rec.get("checked_layouts")
    if not n:
        return "no measured layout to check the model against"
    cross = "; ".join(f"1 core -> 2 cores ({c['variant']} {c['to']}) {_pct(c.get('capacity_miss'))}"
                      for c in rec.get("cross_core") or [])
    return (f"worst error over {n} measured layouts: capacity {_pct(rec.get('capacity_error'))} "
            f"({rec.get('capacity_error_on') or '-'}), p99 near 80% load {_pct(rec.get('p99_error'))} "
            f"({rec.get('p99_error_on') or '-'})" + (f"; {cross}" if cross else ""))


def reliability_lines(rec: dict[str, Any]) -> list[str]:
    if rec.get("reliable", True):
        return []
    return ["warning: the prediction is not reliable on this run (" + "; ".join(rec.get("unreliable_because") or [])
            + "): the answer rests on measured points only"]


def unreliable_line(head: str, rec: dict[str, Any]) -> str:
    pred = rec.get("prediction") or {}
    best = (f"the best measured layout is {rec['layout']} of {rec['variant']} ({rec['cores']} cores) at "
            f"{_n(rec.get('capacity'))} req/s, short of it" if rec.get("layout") else "no layout had a VALID rate")
    guess = (f"; the model's {pred.get('cores')} cores ({_n(pred.get('capacity'))} req/s, interval "
             f"{span_text(pred.get('capacity_interval'))}) is not to be trusted" if pred.get("cores") else "")
    return f"{head}: not carried by any measured layout: {best}{guess}"


HEAD = (f"{'candidate':<30} {'layout':<11} {'measured/s':>15} {'predicted/s [90%]':>22} {'cap err':>8} "
        f"{'miss':>7} {'load':>5} {'p99 meas':>8} {'p99 pred [90%]':>22} {'p99 err':>8}")


def check_table_lines(entry: dict[str, Any]) -> list[str]:
    """Every layout: measured capacity (VALID..INVALID), predicted with its interval, errors; p99 measured vs
    predicted at the point nearest 80% of capacity; the 1-core-to-2-core checks; the verdict."""
    checks = entry.get("checks") or {}
    out = [HEAD]
    for r in checks.get("layouts") or []:
        lo, hi = r.get("measured_bracket") or [r.get("measured_capacity"), None]
        out.append(f"{(r['variant'] + ' ' + r['runtime'])[:30]:<30} {r['layout']:<11} {_n(lo) + '..' + _n(hi):>15} "
                   f"{_n(r['predicted_capacity']) + ' ' + span_text(r.get('capacity_interval')):>22} "
                   f"{_pct(r.get('capacity_error')):>8} {_pct(r.get('capacity_miss')):>7} "
                   f"{_n(r.get('p99_load'), '.0%'):>5} {_n(r.get('measured_p99_ms'), '.3g'):>8} "
                   f"{_n(r.get('predicted_p99_ms'), '.3g') + ' ' + span_text(r.get('p99_interval'), '.3g'):>22} "
                   f"{_pct(r.get('p99_error')):>8}")
    for c in checks.get("cross_core") or []:
        lo, hi = c.get("measured_bracket") or [c.get("measured_capacity"), None]
        out.append(f"1 core -> 2 cores, {c['variant']} {c['runtime']}: {c['from']} predicts {c['to']} "
                   f"{_n(c['predicted_capacity'])} {span_text(c.get('capacity_interval'))} req/s vs measured "
                   f"{_n(lo)}..{_n(hi)}: error {_pct(c.get('capacity_error'))}, miss {_pct(c.get('capacity_miss'))}")
    t = checks.get("targets") or {}
    verdict = "reliable" if checks.get("reliable") else "NOT reliable: " + "; ".join(
        checks.get("unreliable_because") or [])
    out.append(f"miss: distance from the measured bracket (0 inside); targets capacity {_n(t.get('capacity'), '.0%')}"
               f", p99 {_n(t.get('p99'), '.0%')}; other processes' CPU during load "
               f"{_n(checks.get('other_cpu_cores'), '.2f')} cores; prediction {verdict}")
    return out


def capacity_scatter(sized: list[tuple[Any, dict[str, Any]]]) -> go.Figure:
    """Predicted against measured capacity for every layout, with the bootstrap interval and the y = x line."""
    fig = go.Figure()
    top = 0.0
    for run, entry in sized:
        rows = [r for r in (entry.get("checks") or {}).get("layouts") or [] if r.get("measured_capacity")]
        if not rows:
            continue
        iv = [r.get("capacity_interval") or [r["predicted_capacity"]] * 2 for r in rows]
        prefix = f"{run.label} | " if len(sized) > 1 else ""
        fig.add_trace(go.Scatter(
            x=[r["measured_capacity"] for r in rows], y=[r["predicted_capacity"] for r in rows], mode="markers",
            name=html.escape(f"{prefix}layouts"),
            text=[html.escape(f"{r['variant']} {r['runtime']} {r['layout']}") for r in rows],
            error_y=dict(type="data", symmetric=False, array=[max(0.0, b[1] - r["predicted_capacity"])
                         for b, r in zip(iv, rows)], arrayminus=[max(0.0, r["predicted_capacity"] - b[0])
                                                                 for b, r in zip(iv, rows)]),
            marker=dict(size=10)))
        top = max(top, *(r["measured_capacity"] for r in rows), *(b[1] for b in iv))
    if top:
        fig.add_trace(go.Scatter(x=[0, top * 1.1], y=[0, top * 1.1], mode="lines", name="predicted = measured",
                                 line=dict(color="#9aa0a6", dash="dash")))
    fig.update_layout(template="plotly_white", height=420, margin=dict(l=10, r=10, t=40, b=40),
                      xaxis=dict(title="measured capacity (highest VALID rate, req/s)"),
                      yaxis=dict(title="predicted capacity, 90% bootstrap interval (req/s)"))
    return fig
