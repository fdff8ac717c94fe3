"""The deployment-card section of report.html, from the card.json `bench run` writes beside results.json.

Reads only that file; everything in it is user data and goes through `e`.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from edgebench.reports.card.csharp import csharp
from edgebench.reports.card.markdown import matrix_rows, overview
from edgebench.reports.html.parts import e, table
from edgebench.reports.rundata import RunData
from edgebench.results.card_contract import load_card
from edgebench.results.errors import ResultsError


def _card(card: dict[str, Any]) -> str:
    rows = []
    for r, raw in zip(matrix_rows(card), card["rows"]):
        cls = "" if raw["ok"] else ' class="bad"' if raw["ok"] is False else ""
        rows.append("<tr>" + "".join(f"<td{cls if i == 3 else ''}>{e(c)}</td>" for i, c in enumerate(r)) + "</tr>")
    io_rows = []
    for kind in ("inputs", "outputs"):
        for t in card["io"][kind]:
            shape = "[" + ", ".join("?" if d is None else str(d) for d in t["shape"]) + "]"
            io_rows.append("<tr>" + "".join(f"<td>{e(c)}</td>" for c in (
                kind[:-1], t["name"], t["dtype"], shape, t["layout"] or "-", t.get("meaning", ""))) + "</tr>")
    cs = csharp(card)
    pitfalls = "".join(f"<li><code>{e(p['error'])}</code>: {e(p['cause'])}. Fix: {e(p['fix'])}.</li>"
                       for p in card["pitfalls"])
    return (f'<div class="card-variant" data-variant="{e(card["variant"])}"><h3>{e(card["variant"])} '
            f'<span class="muted">{e(card["file"])}</span></h3><p class="pick">{e(card["answer"])}</p>'
            + table(["target", "onnxruntime", "its limits", "result", "checked", "reason / fix"], rows, "card-matrix")
            + "<details><summary>I/O contract, C#, pitfalls</summary>"
            + table(["", "name", "dtype", "shape", "layout", "meaning"], io_rows)
            + f"<pre class=\"mono\">{e(cs['packages'])}</pre><pre class=\"mono\">{e(cs['mlnet'])}</pre>"
            + f"<ul>{pitfalls}</ul></details></div>")


def _cls(status: str) -> str:
    return ' class="bad"' if status.startswith("FAILS") else ""


def card_section(runs: Sequence[RunData]) -> str:
    """The section, or "" when no run has a card (older runs, runs without ONNX variants)."""
    parts = []
    for run in runs:
        try:
            doc = load_card(Path(run.source).parent)
        except ResultsError as exc:
            parts.append(f'<p class="warn">{e(run.label)}: card.json not shown: {e(exc)}</p>')
            continue
        if not doc:
            continue
        head = f"<p class=\"muted\">{e(run.label)}: static check against the shipped kernel registries; " \
               "<code>bench card RUN --load-test</code> loads each variant in the exact onnxruntime.</p>"
        cols, grid = overview(doc)
        cells = ["<tr>" + "".join(f'<td{_cls(c) if i else ""}>{e(c)}</td>' for i, c in enumerate(r)) + "</tr>"
                 for r in grid]
        parts.append(head + table(cols, cells, "card-overview") + '<p class="muted">* load-tested.</p>'
                     + "".join(_card(c) for c in doc["cards"] if isinstance(c, dict)))
    if not parts:
        return ""
    return ('<section id="card"><h2>Deployment card: ML.NET / ONNX Runtime compatibility</h2>'
            + "".join(parts) + "</section>")
