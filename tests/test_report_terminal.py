"""The terminal table: grouped by runtime and variant, best value per column marked, plain text when not a terminal."""
from __future__ import annotations

import io
import re

import pytest
from conftest import load_results, run_bench
from rich.console import Console

from edgebench.reports.terminal.wide_table import plain_table, print_table, sort_key


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
    by_row = sorted(doc["results"], key=sort_key)  # the wide table's own row order (arena-off before arena-on)
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


# --- the default output: the decision first, then a table that fits 100 columns --------------------------------------

@pytest.fixture(scope="module")
def narrow_run(tiny_models, tmp_path_factory):
    """`bench run --fast` with COLUMNS=100 (as `COLUMNS=100 bench run --fast > out.txt`), with the longest variant
    names a profile builds (a static int8 candidate with a settings label) beside the fp32 baselines."""
    out = tmp_path_factory.mktemp("narrow") / "run"
    proc = run_bench("run", str(tiny_models["keras"]), "--profile", "x86_64", "--fast", "--threads", "1",
                     "--variants", "tflite-fp32,tflite-int8,onnx-fp32,onnx-static-int8-qop-u8u8",
                     "--data", str(tiny_models["data"]), "--out", str(out), env={"COLUMNS": "100"})
    assert proc.returncode == 0, proc.stderr
    return out, proc


def table_rows(stdout: str) -> list[str]:
    """The short table's rows: the lines between the header rule and the caption, blank section lines left out."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("variant ") and "median ms" in line)
    assert set(lines[start + 1].strip()) == {"─"}
    rows = []
    for line in lines[start + 2:]:
        if line.startswith("measured on") or line.startswith("HOST TIMINGS"):
            return rows
        if line.strip():
            rows.append(line)
    raise AssertionError("no caption under the table")


def test_default_output_fits_100_columns_and_starts_with_the_decision(narrow_run):
    out, proc = narrow_run
    lines = proc.stdout.splitlines()
    assert all(len(line) <= 100 for line in lines), [line for line in lines if len(line) > 100]
    assert lines[0].startswith("Best overall: ") and "\x1b[" not in proc.stdout
    records = load_results(out)["results"]
    rows = table_rows(proc.stdout)
    # one line per record: no row wrapped, every row starts with its variant, fp32 first
    assert len(rows) == len(records) == 6
    assert {row.split()[0] for row in rows} == {r["variant"] for r in records}
    assert [row.split()[0].endswith("fp32") for row in rows] == [True] * 3 + [False] * 3
    text = proc.stdout
    assert text.index("Best overall: ") < text.index("median ms") < text.index("flags: ") < text.index("results: ")
    assert "tflite-int8: quantized:" in text  # the pass note, once, under the table
    assert text.count("tflite-int8: quantized:") == 1
    assert f"report: {out / 'report.html'}" in text


def test_bench_report_prints_each_runs_decision_and_the_table_on_request(keras_run, arm_run, tmp_path):
    proc = run_bench("report", str(keras_run[0]), str(arm_run[0]), "-o", str(tmp_path / "r.html"),
                     env={"COLUMNS": "100"})
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("x86_64 @ ") and lines[1].startswith("  Best overall: ")
    assert sum(line.startswith("  Best overall: ") for line in lines) == 2 and "median ms" not in proc.stdout
    short = run_bench("report", str(keras_run[0]), "-o", str(tmp_path / "r.html"), "--table", "short",
                      env={"COLUMNS": "100"})
    assert short.returncode == 0 and len(table_rows(short.stdout)) == len(load_results(keras_run[0])["results"])
    assert all(len(line) <= 100 for line in short.stdout.splitlines())


def test_wide_is_todays_full_table(keras_run, tiny_models, tmp_path):
    wide = run_bench("report", str(keras_run[0]), "-o", str(tmp_path / "r.html"), "--table", "wide")
    assert wide.returncode == 0, wide.stderr
    assert wide.stdout.splitlines()[1].startswith("  Best overall: ")
    assert plain_table(load_results(keras_run[0])) in wide.stdout  # the whole wide table, as print_table writes it
    out = tmp_path / "run"
    proc = run_bench("run", str(tiny_models["onnx"]), "--fast", "--threads", "1", "--variants", "onnx-fp32",
                     "--out", str(out), "--wide")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Best overall: onnx-fp32 ")
    assert plain_table(load_results(out)) in proc.stdout and "1st inf ms" in proc.stdout
