"""What `bench run` and `bench report` print: the decision first, then the table, notes, grouped warnings.

Everything printed fits the terminal's width: table rows never wrap (see short_table), prose wraps at words with a
hanging indent. Without a known width (a pipe or a log with no COLUMNS) lines are not wrapped at all.
"""
from __future__ import annotations

import io
import os
import textwrap
from collections.abc import Sequence
from typing import Any

from rich.console import Console

from edgebench.reports.decision import decide
from edgebench.reports.decision_text import decision_lines
from edgebench.reports.fields import accuracy_metric
from edgebench.reports.target_parity import parity_lines
from edgebench.reports.terminal.short_table import legend, short_table, title_line
from edgebench.reports.terminal.wide_table import (
    environment_line,
    op_profile_text,
    print_table,
    run_messages,
    timing_scope_caption,
)
from edgebench.reports.warning_groups import (
    busy_at_start,
    group_line,
    group_warnings,
    measured_count,
    screen_notes,
    screened_lines,
    variant_notes,
)
from edgebench.results.record import records_in


def output_width(console: Console) -> int | None:
    """The width to fit: the terminal's, or COLUMNS for a pipe; None when neither is known (then nothing wraps)."""
    if console.is_terminal or os.environ.get("COLUMNS", "").strip().isdigit():
        return console.width
    return None


def wrap(lines: Sequence[str], width: int | None) -> list[str]:
    """Prose lines wrapped at words to `width`, continuation lines indented two more; names and paths never break."""
    if width is None:
        return list(lines)
    out: list[str] = []
    for line in lines:
        indent = " " * (len(line) - len(line.lstrip(" ")))
        out += textwrap.wrap(line, width, subsequent_indent=indent + "  ", break_long_words=False,
                             break_on_hyphens=False) or [""]
    return out


def say(console: Console, lines: Sequence[str], wrapped: bool = True) -> None:
    """Print prose exactly as wrapped here: rich neither re-wraps it nor reads [brackets] in names as markup.
    wrapped=False for lines a user copies whole (file paths)."""
    for line in wrap(lines, output_width(console) if wrapped else None):
        console.print(line, markup=False, highlight=False, soft_wrap=True)


def print_decision(console: Console, doc: dict[str, Any], heading: str | None = None) -> None:
    """The run's decision; under a heading (the run's label) when several runs are printed one after another."""
    lines = decision_lines(decide(doc.get("results") or [], doc.get("paired"), doc.get("objective")))
    say(console, [heading, *["  " + line for line in lines]] if heading else lines)


def _print_rich_table(console: Console, doc: dict[str, Any]) -> None:
    table = short_table(doc)
    width = output_width(console)
    if width is not None:
        console.print(table, width=width)
        return
    # No width to respect: render at the table's natural width, so a log never gets a squeezed table.
    buf = io.StringIO()
    Console(file=buf, width=1000, color_system=None, force_terminal=False).print(table)
    console.print("\n".join(line.rstrip() for line in buf.getvalue().splitlines()), markup=False,
                  highlight=False, soft_wrap=True)


def print_short(console: Console, doc: dict[str, Any], wide_hint: str) -> None:
    """The 100-column table with its legend, the notes per variant, and the warnings grouped by rule."""
    records = records_in(doc)
    say(console, ["", title_line(doc)])  # a blank line sets the evidence apart from the decision above it
    _print_rich_table(console, doc)
    say(console, [timing_scope_caption(doc), legend(records, accuracy_metric([records]), doc.get("objective"))])
    say(console, variant_notes(records) + screened_lines(records))
    say(console, parity_lines(doc))
    if doc.get("op_profiles"):
        say(console, op_profile_text(doc).splitlines())
    measured, busy = measured_count(records), busy_at_start(doc)
    warnings = [f"warning: {w}" for w in doc.get("warnings") or []]
    groups = group_warnings(records)
    warnings += [f"warning: {group_line(g, measured, busy)}" for g in groups]
    if groups:
        warnings.append(f"(each benchmark's warnings: {wide_hint})")
    say(console, warnings)
    say(console, [environment_line(doc)] + [f"note: {n}" for n in screen_notes(doc)])


def print_wide(console: Console, doc: dict[str, Any]) -> None:
    """Today's full table (every column, warnings and notes per row), then the run's messages."""
    console.print()
    print_table(console, doc)
    say(console, parity_lines(doc))
    if doc.get("op_profiles"):
        console.print(op_profile_text(doc), markup=False, highlight=False, soft_wrap=True)
    for line in run_messages(doc):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
