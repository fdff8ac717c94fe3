"""Self-check: do the headline numbers repeat? Runs the default `bench run` N times back to back (conversions
cached after the first) and prints, per run and runtime, the pick and its ratio to fp32 with its 95% interval (from
the interleaved rounds), then per runtime max/min of the ratios across runs and whether every run's interval holds
the median of the other runs' ratios. Consecutive runs are also compared with `bench compare --fail-on-regression 5`
(unchanged code: every pair should exit 0).

    python benchmarks/selfcheck/repeat.py [MODEL] [-n 5] [--profile x86_64] [--neighbour] [--out DIR]

--neighbour starts a busy loop on one core for 30 s halfway through the middle run: that run's ratios should stay
within 10% of the quiet runs' median, and the run should say it saw the machine drift. Exit 1 when a check fails.
Run it on a machine nobody else is using: other processes make the quiet runs noisy too.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from edgebench.reports.decision import decide
from edgebench.results.contract import load_run
from edgebench.results.record import records_in
from edgebench.results.runtimes import runtime_name

NEIGHBOUR_S = 30.0
MAX_SPREAD = 1.10  # max/min of a runtime's ratios across runs
NEIGHBOUR_TOLERANCE = 0.10


def _bench() -> list[str]:
    """`bench` as this Python runs it (the console script need not sit beside the interpreter)."""
    return [sys.executable, "-m", "edgebench.benchmarks.cli"]


def _busy(seconds: float) -> subprocess.Popen:
    code = f"import time\nend = time.time() + {seconds}\nwhile time.time() < end: pass"
    return subprocess.Popen([sys.executable, "-c", code])


def run_once(args: argparse.Namespace, out: Path, neighbour_after: float | None) -> float:
    """One default `bench run` into `out`; with `neighbour_after`, a busy loop on one core starts that many seconds
    in and runs NEIGHBOUR_S seconds. Returns the wall time."""
    cmd = [*_bench(), "run", *([args.model] if args.model else []), *(["--profile", args.profile] if args.profile
                                                                      else []), "--quiet", "--out", str(out)]
    timer = None
    hogs: list[subprocess.Popen] = []
    if neighbour_after is not None:
        timer = threading.Timer(neighbour_after, lambda: hogs.append(_busy(NEIGHBOUR_S)))
        timer.start()
    t0 = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.monotonic() - t0
    if timer:
        timer.cancel()
    for h in hogs:
        h.wait()
    if proc.returncode != 0:
        sys.exit(f"bench run failed: {(proc.stderr.strip().splitlines() or ['?'])[-1]}")
    return wall


def picks(out: Path) -> dict[str, dict[str, Any]]:
    """Per runtime: the pick, its ratio to fp32 (paired when measured in rounds) with the interval, the drift."""
    doc = load_run(out)
    d = decide(records_in(doc), doc.get("paired"), doc.get("objective"))
    found: dict[str, dict[str, Any]] = {}
    for choice in d.per_runtime:
        p = choice.pick
        if p is None:
            continue
        if p.is_baseline:
            found[choice.scope] = {"pick": f"{p.record['variant']} t{p.record['threads']} (the fp32 baseline)",
                                   "ratio": None, "ci": None, "paired": False}
            continue
        paired = p.paired_speedup
        found[choice.scope] = {"pick": f"{p.record['variant']} t{p.record['threads']}",
                               "ratio": paired.ratio if paired else p.speedup,
                               "ci": paired.ci if paired else None, "paired": paired is not None}
    for v in found.values():
        v["drift"] = d.drift
    return found


def _fmt(row: dict[str, Any]) -> str:
    if row["ratio"] is None:
        return row["pick"]
    ci = row["ci"]
    shown = f"{row['ratio']:.2f}x" + (f" (95% CI {ci[0]:.2f}-{ci[1]:.2f})" if ci else
                                      " (no interval)" if row["paired"] else " (ratio of medians, not paired)")
    return f"{row['pick']}: {shown}"


def summary(runs: list[dict[str, dict[str, Any]]], loud: int | None) -> bool:
    """Per runtime: max/min across runs, whether each run's interval holds the others' median; the loud run."""
    ok = True
    for rt in sorted({rt for r in runs for rt in r}):
        ratios = [r[rt]["ratio"] for r in runs if rt in r and r[rt]["ratio"]]
        if len(ratios) < 2:
            continue
        spread = max(ratios) / min(ratios)
        held = 0
        for i, r in enumerate(runs):
            others = [x[rt]["ratio"] for j, x in enumerate(runs) if j != i and rt in x and x[rt]["ratio"]]
            ci = (r.get(rt) or {}).get("ci")
            held += bool(ci and others and ci[0] <= statistics.median(others) <= ci[1])
        good = spread <= MAX_SPREAD and held == len(runs)
        ok &= good
        print(f"{runtime_name(rt)}: ratios {', '.join(f'{x:.2f}' for x in ratios)}; max/min {spread:.3f} "
              f"(<= {MAX_SPREAD}: {'yes' if spread <= MAX_SPREAD else 'NO'}); intervals holding the others' median: "
              f"{held} of {len(runs)}")
        if loud is not None and rt in runs[loud] and runs[loud][rt]["ratio"]:
            quiet = statistics.median(r[rt]["ratio"] for i, r in enumerate(runs)
                                      if i != loud and rt in r and r[rt]["ratio"])
            off = abs(runs[loud][rt]["ratio"] / quiet - 1)
            ok &= off <= NEIGHBOUR_TOLERANCE
            print(f"  run {loud + 1} (neighbour): {off:.1%} from the quiet runs' median "
                  f"(<= {NEIGHBOUR_TOLERANCE:.0%}: {'yes' if off <= NEIGHBOUR_TOLERANCE else 'NO'})")
    return ok


def compare_pairs(dirs: list[Path]) -> bool:
    """`bench compare --fail-on-regression 5` between consecutive runs: unchanged code, so every pair exits 0."""
    codes = []
    for a, b in zip(dirs, dirs[1:]):
        proc = subprocess.run([*_bench(), "compare", str(a), str(b), "--fail-on-regression", "5"],
                              capture_output=True, text=True)
        codes.append(proc.returncode)
        if proc.returncode:
            print(f"  compare {a.name} {b.name}: exit {proc.returncode}: {proc.stderr.strip()[:300]}")
    print(f"bench compare --fail-on-regression 5, consecutive pairs: exit codes {codes}")
    return all(c == 0 for c in codes)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", nargs="?", help="model (default: the embedded default model)")
    ap.add_argument("-n", type=int, default=5, help="runs back to back (default 5)")
    ap.add_argument("--profile", help="profile (default: this machine's)")
    ap.add_argument("--neighbour", action="store_true", help="a busy loop on one core for 30 s halfway through the "
                    "middle run")
    ap.add_argument("--out", help="directory for the runs (default: a temporary one)")
    args = ap.parse_args()
    root = Path(args.out or tempfile.mkdtemp(prefix="edgebench-repeat-"))
    loud = args.n // 2 if args.neighbour else None
    runs: list[dict[str, dict[str, Any]]] = []
    dirs: list[Path] = []
    walls: list[float] = []
    for i in range(args.n):
        out = root / f"run{i + 1}"
        after = (statistics.median(walls) if walls else 60.0) / 2 if i == loud else None
        walls.append(run_once(args, out, after))
        dirs.append(out)
        runs.append(picks(out))
        rows = "; ".join(f"{runtime_name(rt)} {_fmt(row)}" for rt, row in sorted(runs[-1].items()))
        drift = next((row["drift"] for row in runs[-1].values() if row["drift"]), None)
        print(f"run {i + 1} ({walls[-1]:.0f} s{', neighbour' if i == loud else ''}"
              f"{f', drift {drift - 1:+.0%}' if drift else ''}): {rows}", flush=True)
    ok = summary(runs, loud)
    ok &= compare_pairs(dirs)
    print(f"runs in {root}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
