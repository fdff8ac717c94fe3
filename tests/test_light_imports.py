"""`import edgebench.reports` and `bench --help` must stay fast: no TensorFlow, no runtime."""
from __future__ import annotations

import subprocess
import sys

from conftest import BENCH

HEAVY = ("tensorflow", "onnxruntime", "ai_edge_litert", "tf2onnx", "keras", "ray")


def _imported_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys; print(' '.join(sys.modules))"],
                         capture_output=True, text=True, check=True).stdout
    return {m.split(".")[0] for m in out.split()}


def test_import_reports_is_light():
    assert not _imported_after("import edgebench.reports, edgebench.reports.terminal.wide_table, edgebench.results.stats") & set(HEAVY)


def test_bench_help_is_light():
    code = ("import sys; sys.argv=['bench','--help']\nimport edgebench.benchmarks.cli as c\ntry:\n    c.main()\n"
            "except SystemExit:\n    pass")
    assert not _imported_after(code) & set(HEAVY)
    proc = subprocess.run([*BENCH, "run", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "--profile" in proc.stdout and "exit codes" in proc.stdout


def test_report_help_imports_neither_plotly_nor_a_runtime():
    # the help text itself names plotly, so it goes to a buffer, not into the module list on stdout
    code = ("import contextlib, io, sys; sys.argv=['bench','report','--help']\nimport edgebench.benchmarks.cli as c\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n    try:\n        c.main()\n"
            "    except SystemExit:\n        pass")
    assert not _imported_after(code) & {*HEAVY, "plotly"}
    proc = subprocess.run([*BENCH, "report", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "--plotly" in proc.stdout and "RUN" in proc.stdout


def test_report_modules_import_no_runtime():
    assert not _imported_after("import edgebench.reports.html.page, edgebench.reports.html.charts, edgebench.reports.rundata") & set(HEAVY)
