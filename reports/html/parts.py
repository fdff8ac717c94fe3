"""Pieces every part of the HTML report uses: escaping, tables, and where a run's timings were taken.

Every string from a results file goes through `e`; the pieces here return HTML that is safe to concatenate.
"""
from __future__ import annotations

import html
from typing import Any

from edgebench.reports.fields import dig, text, timed_on
from edgebench.reports.rundata import RunData
from edgebench.results.record import Record


def e(value: Any) -> str:
    """HTML-escape anything (quotes too: values also land in attributes)."""
    return html.escape(text(value), quote=True)


def table(head: list[str], rows: list[str], cls: str = "") -> str:
    """A scrollable table: `head` is escaped here, `rows` are ready-made <tr> elements."""
    th = "".join(f"<th>{e(h)}</th>" for h in head)
    return (f'<div class="scroll"><table class="{cls}"><thead><tr>{th}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>')


def strings(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def is_host_timing(run: RunData, rec: Record | None = None) -> bool:
    if rec is not None and rec.get("timing_scope") in ("host", "target"):
        return rec["timing_scope"] == "host"
    arch, target = timed_on(run.doc).get("arch"), dig(run.doc, "profile", "target_arch")
    return bool(arch and target and arch != target)


def scope_badge(run: RunData, rec: Record | None = None) -> str:
    if is_host_timing(run, rec):
        return ('<span class="badge host" title="measured on a host that is not the profile\'s target">'
                "HOST timing</span>")
    return '<span class="badge target">target</span>'


def run_heading(run: RunData) -> str:
    doc, on = run.doc, timed_on(run.doc)
    return (f"<b>{e(run.label)}</b>: profile {e(dig(doc, 'profile', 'name') or '?')} (target "
            f"{e(dig(doc, 'profile', 'target_arch') or '?')}), measured on {e(on.get('arch') or '?')} "
            f"{e(on.get('cpu_model') or '')}, {e(doc.get('mode') or '?')} mode, "
            f"model {e(dig(doc, 'model', 'name') or '?')} {scope_badge(run)}")
