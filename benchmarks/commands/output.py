"""What several sub-commands print the same way: the console, skipped-record warnings, the report line."""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # rich is imported only when something is printed
    from rich.console import Console


def console(stderr: bool) -> Console:
    from rich.console import Console
    return Console(stderr=stderr, no_color=bool(os.environ.get("NO_COLOR")) or None)


def warn_skipped(lines: list[str]) -> None:
    """Damaged records that a reader left out: one warning line each, the rest of the file is still reported."""
    for line in lines:
        sys.stderr.write(f"bench: warning: skipped a damaged record: {line}\n")


def write_run_report(out: Path) -> str:
    """Write report.html beside results.json; returns the line that tells the user where it is (or why not)."""
    try:
        from edgebench.reports.html.page import REPORT_FILE, write_report
        path = write_report([out], out / REPORT_FILE)
    except Exception as exc:  # the measurements are on disk already: a report problem must not fail the run
        return f"report.html not written ({type(exc).__name__}: {' '.join(str(exc).split())[:200]}); " \
               f"try: bench report {out}"
    return f"report: {path}"
