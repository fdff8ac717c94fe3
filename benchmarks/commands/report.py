"""`bench report RUN...`: one shareable HTML report of one or more runs."""
from __future__ import annotations

import argparse
from pathlib import Path

from edgebench.benchmarks.commands.args import EXIT_OK, Subparsers, user_error
from edgebench.benchmarks.commands.output import console, warn_skipped

EPILOG = """\
examples:
  bench report bench-results/run1 -o run1.html
  bench report results/x86 results/arm64-board -o x86-vs-arm64.html
  bench report results/x86/results.json --plotly cdn -o small.html

bench run already writes report.html into its run directory; bench report merges several runs into one file."""


def register(sub: Subparsers) -> None:
    p = sub.add_parser("report", help="merge one or more runs into one shareable HTML report",
                       description="Write one self-contained HTML report of one or more runs (for example an x86 "
                       "server and an arm64 board, or two profiles): recommended variants, every record, latency "
                       "distributions, accuracy vs latency, memory, scaling, LiteRT vs ONNX Runtime, environments "
                       "and warnings.", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", metavar="RUN", help="run directory (bench run --out) or its results.json")
    p.add_argument("-o", "--output", metavar="FILE.html", default="report.html",
                   help="the report to write (default: report.html; a directory gets DIR/report.html)")
    p.add_argument("--plotly", choices=["embed", "cdn"], default="embed",
                   help="embed plotly.js (default: opens offline and as an attachment, ~5 MB) or load it from "
                   "the plotly CDN (~100 kB, needs network to show the charts)")
    p.add_argument("--table", choices=["short", "wide"], help="also print each run's table: short (fits 100 "
                   "columns, warnings grouped) or wide (every column, each benchmark's warnings in its row)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from edgebench.reports.html.page import REPORT_FILE, render_report
    from edgebench.reports.rundata import load_run_data
    from edgebench.reports.terminal.screen import print_decision, print_short, print_wide, say
    from edgebench.results.contract import SKIPPED_KEY

    out = Path(args.output)
    if out.is_dir():
        out = out / REPORT_FILE
    if not out.parent.is_dir():
        raise user_error(f"cannot write {out}: directory {out.parent} does not exist")
    runs = load_run_data(args.runs)
    warn_skipped([w for run in runs for w in run.doc[SKIPPED_KEY]])
    text = render_report(runs, plotly=args.plotly)
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise user_error(f"cannot write {out}: {exc.strerror or exc}") from None
    con = console(False)
    for run in runs:
        print_decision(con, run.doc, heading=f"{run.label}:")
        if args.table == "wide":
            print_wide(con, run.doc)
        elif args.table == "short":
            print_short(con, run.doc, f"bench report {run.source} --table wide")
    size = out.stat().st_size
    say(con, [f"report: {out} ({size / 1e6:.2f} MB, {len(runs)} run{'s' * (len(runs) != 1)}, plotly.js "
              f"{'embedded' if args.plotly == 'embed' else 'from the CDN'})"])
    return EXIT_OK
