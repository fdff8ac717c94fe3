"""The terminal table: grouped by runtime and variant, best value per column marked, plain text when not a terminal."""
from __future__ import annotations

import io
import re

from conftest import load_results
from rich.console import Console

from edgebench.reports.table import plain_table, print_table


def render(doc: dict, terminal: bool) -> str:
    buf = io.StringIO()
    print_table(Console(file=buf, force_terminal=terminal, color_system="standard" if terminal else None,
                        width=250), doc)
    return buf.getvalue()


def test_colour_table_on_a_terminal_and_plain_text_otherwise(keras_run, monkeypatch):
    doc = load_results(keras_run[0])
    monkeypatch.delenv("NO_COLOR", raising=False)
    rich_out = render(doc, terminal=True)
    assert "\x1b[" in rich_out and "┃" in rich_out and " *" in rich_out
    piped = render(doc, terminal=False)
    assert "\x1b[" not in piped and "┃" not in piped and piped.startswith("tiny | profile x86_64")
    monkeypatch.setenv("NO_COLOR", "1")
    assert render(doc, terminal=True) == piped


def test_best_value_is_marked_in_its_row(keras_run):
    doc = load_results(keras_run[0])
    lines = plain_table(doc).splitlines()
    cells = [re.split(r" {2,}", line.strip()) for line in lines[1:2 + len(doc["results"])]]
    header, rows = cells[0], cells[1:]
    by_row = sorted(doc["results"], key=lambda r: (r["runtime"], r["variant"], r["threads"]))
    for column, key in (("median ms", "median"), ("p99 ms", "p99")):
        i = header.index(column)
        best = min(r["latency_ms"][key] for r in by_row)
        marked = [rec["latency_ms"][key] == best for rec in by_row]
        assert [row[i].endswith(" *") for row in rows] == marked, (column, rows)
    assert lines[-1] == "* best value of its column"


def test_markup_in_names_is_printed_literally(keras_run, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    doc = load_results(keras_run[0])
    doc["model"]["name"] = "net[/][bold]x"
    for rec in doc["results"]:
        rec["variant"] += "[red]"
    out = render(doc, terminal=True)
    assert "net[/][bold]x" in out and "[red]" in out
