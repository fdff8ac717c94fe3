"""`bench size`: cores, instances and threads for a request rate at a latency SLO."""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Any

from edgebench.benchmarks.commands.args import (
    EXIT_FAILED_RECORDS,
    EXIT_INTERRUPTED,
    EXIT_OK,
    Subparsers,
    default_profile,
    name_list,
    positive,
    positive_list,
    user_error,
)
from edgebench.benchmarks.commands.output import console, write_run_report

SIZE_EPILOG = """\
examples:
  bench size --slo p99=10ms --rate 300                  # the default model: builds its variants, then sizes
  bench size --from bench-results/run1 --slo p99=20ms --rate 500 --price-per-core-hour 0.04
  bench size model.keras --profile x86_64 --slo p99=5ms --rate 200 --fast
  bench size --from run1 --slo p99=10ms --rate 300 --variants tflite-int8 --layouts 1x1,2x1 --rates 100,200

What it measures, per candidate (the pick of each runtime and fp32, within the accuracy budget) and per layout
(I instances x T threads that fit this machine, each instance its own pinned process): the service time with
k = 1..I instances busy (closed loop), then open-loop Poisson load driven by MLPerf LoadGen (server scenario),
latency timed from each query's scheduled arrival. A load point is VALID when the percentile is within the SLO by
LoadGen's early-stopping test at 99% confidence, with the mode's minimum queries and duration, and the generator
kept its schedule (>= 99%). Capacity = the highest VALID rate. Beyond this machine: an M/G/c queue simulation over
the measured service times and a fitted Universal Scalability Law, checked on held-out measured points.

Without --from, the model is first built and checked as `bench run --fast --threads 1` would (in --out).
sizing.json (raw latencies of every load point) goes into the run directory; bench report shows it.

exit codes: 0 sized; 1 a layout failed (crash, hang, memory: its point is INVALID with the reason);
2 bad input; 130 interrupted (what was measured is in sizing.json)."""


def register(sub: Subparsers) -> None:
    p = sub.add_parser("size", help="cores, instances and threads for a request rate at a latency SLO",
                       description="Turn a latency SLO and a request rate into cores, instances x threads, variant "
                       "and runtime, memory and cost: measured on this machine, predicted beyond it.",
                       epilog=SIZE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", nargs="?", metavar="MODEL", help="model file or SavedModel directory (default: the "
                   "embedded MobileNetV2-class digits classifier); not with --from")
    p.add_argument("--from", dest="from_run", metavar="RUN_DIR", help="reuse a bench run directory's variants and "
                   "accuracy instead of building them")
    p.add_argument("--profile", help="built-in profile name or TOML path (default: this machine's; with --from, "
                   "the run's)")
    p.add_argument("--slo", required=True, help="latency objective, e.g. p99=10ms (also p90=5ms, p99=0.02s)")
    p.add_argument("--rate", type=positive, required=True, metavar="REQ_PER_S", help="request rate to serve")
    p.add_argument("--variants", help="comma-separated variants to size (default: the pick of each runtime and "
                   "fp32); only variants within the accuracy budget")
    p.add_argument("--layouts", help="instances x threads, e.g. 1x1,2x1,1x2 (1x2-nospin: ONNX Runtime's spinning "
                   "off); default: every layout that fits this machine")
    p.add_argument("--rates", type=positive_list, metavar="R1,R2", help="measure these rates instead of searching")
    p.add_argument("--price-per-core-hour", type=positive, metavar="USD", help="adds $ per million inferences")
    p.add_argument("--fast", action="store_true", help="small minimums (459 queries, 1 s per point, 4 points per "
                   "layout): minutes, for a first look and CI")
    p.add_argument("--data", metavar="FILE.npz", help="inputs for accuracy and calibration (without --from)")
    p.add_argument("--out", metavar="DIR", help="run directory when building (default: "
                   "./bench-results/<time>-<profile>-size/)")
    p.add_argument("--timeout", type=positive, metavar="SECONDS", help="limit for building and loading (default 600)")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(handler=run)


def _build_run(args: argparse.Namespace, reporter: Any) -> Path:
    """A fast bench run of the model at 1 thread: its variants, accuracy and picks are what sizing starts from."""
    from edgebench.benchmarks.run.options import RunOptions
    from edgebench.benchmarks.run.pipeline import run_benchmarks
    from edgebench.hardware_profiles import load_profile

    profile = load_profile(args.profile or default_profile())
    out = Path(args.out) if args.out else Path("bench-results") / (
        dt.datetime.now().strftime("%Y%m%d-%H%M%S") + f"-{profile.name}-size")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise user_error(f"output directory {out} is not empty; choose another --out, or size it with --from {out}")
    out.mkdir(parents=True, exist_ok=True)
    run_benchmarks(RunOptions(profile=profile, out=out, model=args.model, threads=[1], data=args.data, mode="fast",
                              timeout=args.timeout or 600.0), reporter)
    return out


def _check_flags(args: argparse.Namespace) -> None:
    if args.from_run and (args.model or args.profile or args.data or args.out):
        raise user_error("--from reuses a run's model, profile and data: MODEL, --profile, --data and --out "
                        "cannot be given with it")
    if args.from_run and not Path(args.from_run).is_dir():
        raise user_error(f"--from: {args.from_run} is not a run directory")


def run(args: argparse.Namespace) -> int:
    from edgebench.benchmarks.progress import reporter_for
    from edgebench.benchmarks.size.layouts import usable_cpus
    from edgebench.benchmarks.size.plan import MODES, SizeOptions, parse_slo
    from edgebench.benchmarks.size.sizer import run_sizing
    from edgebench.reports.sizing.text import answer_lines, table_lines
    from edgebench.results.contract import load_run
    from edgebench.results.sizing import sizing_path

    _check_flags(args)
    percentile, bound = parse_slo(args.slo)
    err, out = console(True), console(False)
    variants = name_list(args.variants)
    run_dir: Path | None = Path(args.from_run) if args.from_run else None
    try:
        with reporter_for(err, args.quiet) as reporter:
            if run_dir is None:
                run_dir = _build_run(args, reporter)
            doc = load_run(run_dir)
            limits = (doc.get("profile") or {}).get("limits") or {}
            opts = SizeOptions(run_dir=run_dir, doc=doc, percentile=percentile, bound_ms=bound, rate=args.rate,
                               mode=MODES["fast" if args.fast else "default"],
                               price_per_core_hour=args.price_per_core_hour, variants=variants,
                               layouts=args.layouts, rates=args.rates, timeout=args.timeout or 600.0,
                               max_rss_mb=limits.get("max_rss_mb"), cpus=usable_cpus())
            entry = run_sizing(opts, reporter)
    except KeyboardInterrupt:
        where = f": what was measured is in {sizing_path(run_dir)}" if run_dir is not None else ""
        sys.stderr.write(f"bench: interrupted{where}\n")
        return EXIT_INTERRUPTED
    for line in answer_lines(entry):
        out.print(line, markup=False, highlight=False, soft_wrap=True)
    for line in table_lines(entry):
        out.print(line, markup=False, highlight=False, soft_wrap=True)
    out.print(f"sizing: {sizing_path(run_dir)}", markup=False, highlight=False, soft_wrap=True)
    out.print(write_run_report(run_dir), markup=False, highlight=False, soft_wrap=True)
    failed = any(lay.get("stopped") for c in entry["candidates"] for lay in c["layouts"])
    return EXIT_FAILED_RECORDS if failed else EXIT_OK
