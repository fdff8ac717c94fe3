"""`bench run`: convert, measure and report one model on one hardware profile."""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from edgebench.benchmarks.commands.args import (
    EXIT_FAILED_RECORDS,
    EXIT_INTERRUPTED,
    EXIT_OK,
    Subparsers,
    default_profile,
    int_list,
    name_list,
    positive_seconds,
    user_error,
)
from edgebench.benchmarks.commands.output import console, write_run_report

if TYPE_CHECKING:  # the run's modules are imported by the handler, not by `bench --help`
    from edgebench.benchmarks.run.options import RunOptions

EPILOG = """\
examples:
  bench run                                  # embedded default model, profile of this machine's architecture
  bench run model.keras --profile arm64      # a Keras file; arm64 timings on an x86 host are labelled HOST timings
  bench run model.tflite --threads 1,4 --fast
  bench run model.onnx --data inputs.npz --out results/onnx-x86
  bench run --resume results/onnx-x86        # finish an interrupted run: only what is missing or failed

MODEL is a .keras file (loaded in Keras safe mode), a SavedModel directory, a .tflite or an .onnx file.
--data FILE.npz holds one array per model input (named as the input; 'x' for a single input), samples along
axis 0, and optionally integer labels 'y'. --data DIR is a folder of images (jpg/png; labels from sub-folder names,
ImageFolder style) preprocessed as the model says (TFLite metadata, Keras Rescaling/Normalization layers) or as
--preprocess says. Without data a user model is checked on random inputs, loudly flagged.
--output NAME=KIND says what an output is (class-scores, score, regression, landmarks, embedding, mask): its
accuracy is judged by the metric that fits (decision agreement, error relative to range, cosine, IoU).

modes: --fast (at most 3 processes, for CI), default (at most 6), --rigorous (20, exhaustive). Variants are screened;
fp32 baselines and what can still win run until the median's 95% CI is within +/-1% (--exhaustive: all in full).

exit codes: 0 all benchmarks ok; 1 some benchmark failed (its record says why, the others are kept);
2 bad input (one line on stderr); 130 interrupted (what was measured is on disk; --resume finishes it).
A profile's [limits] max_rss_mb stops any benchmark process that holds more resident memory (a failed record)."""


def register(sub: Subparsers) -> None:
    from edgebench.benchmarks.variants.shapes import add_input_args
    p = sub.add_parser("run", help="convert, measure and report one model on one hardware profile",
                       description="Convert MODEL to the profile's variants, check each against the source "
                       "model's outputs, time each in isolated pyperf workers, and write results.json, "
                       "pyperf.json and a table.", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", nargs="?", metavar="MODEL", help="model file or SavedModel directory "
                   "(default: the embedded MobileNetV2-class digits classifier)")
    p.add_argument("--profile", help="built-in profile name (bench profiles) or path of a TOML file "
                   "(default: the profile of this machine's architecture)")
    p.add_argument("--threads", type=int_list, help="thread counts, e.g. 1,2 (default: the profile's)")
    p.add_argument("--batch", type=int_list, help="batch sizes, e.g. 1,8 (default: the profile's)")
    p.add_argument("--variants", help="comma-separated variant names (default: the profile's)")
    p.add_argument("--data", metavar="FILE.npz|DIR", help="inputs (and labels y) for accuracy and calibration; a "
                   "folder of images (jpg/png, labels from sub-folder names), preprocessed as the model says")
    add_input_args(p)
    from edgebench.benchmarks.run.image_data import add_accuracy_args
    add_accuracy_args(p)  # --output NAME=KIND, --preprocess
    p.add_argument("--out", metavar="DIR", help="run directory (default: ./bench-results/<time>-<profile>/)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--fast", action="store_true", help="few processes: seconds per benchmark (development, CI)")
    mode.add_argument("--rigorous", action="store_true", help="more processes and values, for publication")
    p.add_argument("--exhaustive", action="store_true", help="no screening, no early stop (implied by --rigorous)")
    p.add_argument("--mixed", action="store_true", help="search for a mixed-precision int8 variant (the fewest "
                   "layers kept in float within the accuracy budget) even when full int8 keeps the budget")
    p.add_argument("--objective", choices=("median", "p99"), help="what the decision minimises: the median "
                   "latency, or the p99 for a latency SLO (default: the profile's [benchmark] objective, median)")
    p.add_argument("--timeout", type=positive_seconds, metavar="SECONDS",
                   help="limit for each conversion check and each batch of benchmark processes (default 600)")
    p.add_argument("--resume", metavar="DIR", help="finish an interrupted run in DIR with its own options: "
                   "measure only what is missing, re-try what failed, keep what was measured")
    p.add_argument("--json", action="store_true", help="print results.json on stdout (table and progress go to stderr)")
    p.add_argument("--op-profile", action="store_true",
                   help="also record ONNX Runtime's per-node profile of each ONNX variant (DIR/op_profile/) and "
                   "show the operators that dominate")
    p.add_argument("--quiet", action="store_true", help="no progress (by default a bar on a terminal, else one "
                   "line per stage and per finished benchmark on stderr)")
    p.add_argument("--wide", action="store_true", help="the full table: every column, and each benchmark's "
                   "warnings and notes in its row (default: the decision, then a table that fits 100 columns)")
    p.add_argument("--cluster", metavar="ADDRESS", help="time each benchmark on the node of a Ray cluster that "
                   "offers the profile (bench node start); conversion and accuracy stay here")
    p.set_defaults(handler=run)


def _options(args: argparse.Namespace) -> RunOptions:
    """The run's options: from the run directory's own (--resume), else from the command line."""
    from edgebench.benchmarks.run import resume
    from edgebench.benchmarks.run.options import RunOptions
    from edgebench.hardware_profiles import load_profile

    if args.resume:
        resume.check_resume_flags(args)
        opts = resume.options_from_run(args.resume, args.timeout)
        opts.cluster = args.cluster or opts.cluster
        return opts
    profile = load_profile(args.profile or default_profile())
    if args.objective:
        profile = profile.with_objective(args.objective)
    out = Path(args.out) if args.out else Path("bench-results") / (
        dt.datetime.now().strftime("%Y%m%d-%H%M%S") + f"-{profile.name}")
    if out.exists() and (not out.is_dir() or any(p.name != ".lock" for p in out.iterdir())):
        raise user_error(f"output directory {out} is not empty; choose another --out (or --resume {out})")
    mode = "fast" if args.fast else "rigorous" if args.rigorous else "default"
    return RunOptions(profile=profile, out=out, model=args.model, threads=args.threads, batches=args.batch,
                      variants=name_list(args.variants), data=args.data, mode=mode,
                      timeout=args.timeout or 600.0, op_profile=args.op_profile,
                      exhaustive=args.exhaustive or mode == "rigorous", cluster=args.cluster,
                      input_shapes=dict(args.input_shape or []), vocab_size=args.vocab_size,
                      output_kinds=dict(args.output_kind) if args.output_kind else None, preprocess=args.preprocess,
                      mixed=args.mixed)


def run(args: argparse.Namespace) -> int:
    from edgebench.benchmarks.progress import reporter_for
    from edgebench.benchmarks.run import resume
    from edgebench.benchmarks.run.pipeline import run_benchmarks
    from edgebench.reports.terminal.screen import print_decision, print_short, print_wide, say

    opts = _options(args)
    out = opts.out
    lock = resume.lock_run_dir(out)  # noqa: F841  (held until this process ends)
    if args.resume:
        resume.stop_leftovers(opts.run_id)
    err_console = console(True)
    out_console = err_console if args.json else console(False)
    out.mkdir(parents=True, exist_ok=True)
    try:
        with reporter_for(err_console, args.quiet) as reporter:
            doc = run_benchmarks(opts, reporter)
    except KeyboardInterrupt:
        err_console.print(f"interrupted: what was measured is in {out}; finish it with: bench run --resume {out}",
                          markup=False, highlight=False, soft_wrap=True)
        return EXIT_INTERRUPTED
    print_decision(out_console, doc)  # the answer first, then the evidence
    if args.wide:
        print_wide(out_console, doc)
    else:
        print_short(out_console, doc, f"bench run --wide, or bench report {out} --table wide")
    say(out_console, [f"results: {out / 'results.json'}", f"pyperf: {out / 'pyperf.json'}", write_run_report(out)],
        wrapped=False)
    if args.json:
        sys.stdout.write((out / "results.json").read_text(encoding="utf-8") + "\n")
    failed = [r for r in doc["results"] if r["status"] != "ok"]
    return EXIT_FAILED_RECORDS if failed or not doc["results"] else EXIT_OK
