"""Self-check of `bench size`: wall time, and the model's checks on every measured layout (targets: capacity within
15% of the measured VALID..INVALID bracket, p99 near 80% of capacity within 20%; 1 core -> 2 cores within 15%).

    python benchmarks/selfcheck/sizing.py                       # bench size --slo p99=10ms --rate 300 (default model)
    python benchmarks/selfcheck/sizing.py --fast --from RUN     # reuse a bench run directory
    python benchmarks/selfcheck/sizing.py --read RUN            # only print the pairs of RUN/sizing.json

Runs `bench size` as a user would (a subprocess), then prints the whole table: every layout's measured capacity
(VALID..INVALID) against the predicted one with its 90% bootstrap interval, the p99 measured and predicted at the
VALID point nearest 80% of capacity, the errors, the 1-core-to-2-core check and the verdict. Exit 1 when the
prediction is flagged unreliable or the wall time misses its limit (default 4 min, --fast 3 min). Run it on a quiet
machine: a busy one is flagged, as it should be.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

LIMITS = {"default": 240, "fast": 180}  # seconds of `bench size` on the default model (issue 30: default < 4 min)


def report(entry: dict[str, Any]) -> bool:
    """Print the answer and the whole check table of one sizing entry; True when the prediction is reliable."""
    from edgebench.reports.sizing.checks import check_table_lines
    print(_first_line(entry))
    print()
    for line in check_table_lines(entry):
        print(line)
    return bool((entry.get("checks") or {}).get("reliable"))


def _first_line(entry: dict[str, Any]) -> str:
    from edgebench.reports.sizing.text import answer_lines
    return "\n".join(answer_lines(entry))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--from", dest="from_run", help="a bench run directory to size (default: build the model)")
    ap.add_argument("--read", help="only print the check table of this run directory's sizing.json")
    ap.add_argument("--slo", default="p99=10ms")
    ap.add_argument("--rate", default="300")
    ap.add_argument("--fast", action="store_true")
    ap.add_argument("--out", help="run directory when building (default: a new one under bench-results/)")
    args = ap.parse_args()
    if args.read:
        entry = json.loads((Path(args.read) / "sizing.json").read_text())["sizings"][-1]
        return 0 if report(entry) else 1
    cmd = ["bench", "size", "--slo", args.slo, "--rate", args.rate] + (["--fast"] if args.fast else [])
    cmd += ["--from", args.from_run] if args.from_run else (["--out", args.out] if args.out else [])
    t0 = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.monotonic() - t0
    sys.stdout.write(proc.stdout)
    if proc.returncode not in (0, 1):
        sys.stderr.write(proc.stderr)
        return proc.returncode
    run = next(ln.split(": ", 1)[1] for ln in proc.stdout.splitlines() if ln.startswith("sizing: "))
    limit = LIMITS["fast" if args.fast else "default"]
    print(f"\nwall time {wall:.0f} s (target <= {limit} s{'' if wall <= limit else ': MISS'}): {' '.join(cmd)}")
    entry = json.loads(Path(run).read_text())["sizings"][-1]
    ok = report(entry)
    return 0 if ok and wall <= limit else 1


if __name__ == "__main__":
    sys.exit(main())
