"""`bench compare A B`: two runs record by record (ratio of medians, significance)."""
from __future__ import annotations

import argparse
import json
import sys

from edgebench.benchmarks.commands.args import EXIT_FAILED_RECORDS, EXIT_OK, Subparsers
from edgebench.benchmarks.commands.output import warn_skipped


def register(sub: Subparsers) -> None:
    p = sub.add_parser("compare", help="compare two runs record by record (ratio of medians, significance)",
                       description="For every record present in both runs: B's median over A's, tested per worker "
                       "process "
                       "(Welch on the logs of the process medians: samples of one process are not independent); a "
                       "change is called only when significant and beyond both runs' noise. Screened records are not "
                       "compared. A run is a run directory or its results.json.",
                       epilog="exit codes: 0 no regression (or no threshold given); 1 a record is called "
                       "slower by more than --fail-on-regression PCT; 2 bad input.")
    p.add_argument("a", metavar="A", help="baseline run")
    p.add_argument("b", metavar="B", help="run to compare with the baseline")
    p.add_argument("--fail-on-regression", type=float, metavar="PCT",
                   help="exit 1 when B is significantly slower than A by more than PCT percent (for CI)")
    p.add_argument("--json", action="store_true", help="print the comparison as JSON")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from edgebench.reports.compare import compare_runs, compare_text, regressions

    result = compare_runs(args.a, args.b)
    warn_skipped(result["skipped"])
    if args.json:
        sys.stdout.write(json.dumps(result, indent=1) + "\n")
    else:
        print(compare_text(result))
    if args.fail_on_regression is not None:
        bad = regressions(result, args.fail_on_regression)
        if bad:
            names = ", ".join(f"{r['runtime']}/{r['variant']}/t{r['threads']} {r['ratio']:.3f}x" for r in bad)
            sys.stderr.write(f"bench: regression beyond {args.fail_on_regression:g}%: {names}\n")
            return EXIT_FAILED_RECORDS
    return EXIT_OK
