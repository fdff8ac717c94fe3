"""The sizing section of the HTML report: each sizing's answer, its layouts and its held-out prediction check."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from edgebench.reports.html.parts import e, table
from edgebench.reports.rundata import RunData
from edgebench.reports.sizing.figures import latest_sizings
from edgebench.reports.sizing.text import answer_lines, table_lines


def _num(value: Any, spec: str) -> str:
    return e(format(value, spec)) if isinstance(value, (int, float)) else "-"


def _pairs(entry: dict[str, Any]) -> str:
    rows = []
    for cand in entry.get("candidates", []):
        for lay in cand.get("layouts", []):
            pred = lay.get("predicted") or {}
            rows.append("<tr>" + "".join([
                f"<td>{e(cand.get('variant'))} {e(cand.get('runtime'))}</td>", f"<td>{e(lay.get('layout'))}</td>",
                f'<td class="n">{_num(lay.get("capacity"), ".0f")}</td>',
                f'<td class="n">{_num(pred.get("capacity"), ".0f")}</td>',
                f'<td class="n">{_num(pred.get("capacity_error"), "+.1%")}</td>',
                "<td>" + e("; ".join(f"{q['rate']:.0f}/s: {q['measured_ms']:.3g} vs {q['predicted_ms']:.3g} ms"
                                     for q in pred.get("points") or [])) + "</td>"]) + "</tr>")
    return table(["candidate", "layout", "measured capacity", "predicted", "error",
                  "p99 measured vs predicted per load point"], rows)


def sizing_section(runs: Sequence[RunData]) -> str:
    """The section, or "" when no run has a sizing."""
    sized = latest_sizings(runs)
    if not sized:
        return ""
    parts = ['<section id="sizing"><h2>Sizing (bench size)</h2>']
    for run, entry in sized:
        lines = answer_lines(entry)
        parts.append(f"<h3>{e(run.label)}: {e(entry.get('created'))}</h3>")
        parts.append(f'<p class="pick">{e(lines[0])}</p>')
        parts += [f'<p class="{"warn" if ln.startswith("warning") else "info"}">{e(ln.strip())}</p>'
                  for ln in lines[1:]]
        parts.append("<pre class=\"mono\">" + e("\n".join(table_lines(entry)[1:])) + "</pre>")
        parts.append("<details><summary>Measured vs predicted (the simulation never sees the open-loop points)"
                     f"</summary>{_pairs(entry)}</details>")
    return "".join(parts) + "</section>"
