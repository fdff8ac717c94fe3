"""The `bench` command. Imports here stay light: TensorFlow and the runtimes load only inside the work that needs them."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from edgebench.benchmarks import profiles_command  # argparse only: `bench --help` stays light
from edgebench.benchmarks.card import command as card_command
from edgebench.benchmarks.emulation import command as target_command

if TYPE_CHECKING:  # rich is imported only when something is printed
    from rich.console import Console

EXIT_OK, EXIT_FAILED_RECORDS, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

RUN_EPILOG = """\
examples:
  bench run                                  # embedded default model, profile of this machine's architecture
  bench run model.keras --profile arm64      # a Keras file; arm64 timings on an x86 host are labelled HOST timings
  bench run model.tflite --threads 1,4 --fast
  bench run model.onnx --data inputs.npz --out results/onnx-x86
  bench run --resume results/onnx-x86        # finish an interrupted run: only what is missing or failed

MODEL is a .keras file (loaded in Keras safe mode), a SavedModel directory, a .tflite or an .onnx file.
--data FILE.npz holds one array per model input (named as the input; 'x' for a single input), samples along
axis 0, and optionally integer labels 'y'. Without it a user model is checked on random inputs, loudly flagged.

modes: --fast (at most 3 processes, for CI), default (at most 6), --rigorous (20, exhaustive). Variants are screened;
fp32 baselines and what can still win run until the median's 95% CI is within +/-1% (--exhaustive: all in full).

exit codes: 0 all benchmarks ok; 1 some benchmark failed (its record says why, the others are kept);
2 bad input (one line on stderr); 130 interrupted (what was measured is on disk; --resume finishes it).
A profile's [limits] max_rss_mb stops any benchmark process that holds more resident memory (a failed record)."""


REPORT_EPILOG = """\
examples:
  bench report bench-results/run1 -o run1.html
  bench report results/x86 results/arm64-board -o x86-vs-arm64.html
  bench report results/x86/results.json --plotly cdn -o small.html

bench run already writes report.html into its run directory; bench report merges several runs into one file."""


def _int_list(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated positive integers, got {text!r}") from None
    if not values or any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected comma-separated positive integers, got {text!r}")
    return values


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


class _Parser(argparse.ArgumentParser):
    commands: Mapping[str, argparse.ArgumentParser] = {}  # the sub-commands' parsers, on the top-level parser

    def error(self, message: str) -> NoReturn:  # one line, exit 2, as for every user error; names this parser's help
        self.exit(EXIT_USAGE, f"bench: error: {message} (see {self.prog} --help)\n")

    def parse_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                   namespace: argparse.Namespace | None = None) -> argparse.Namespace:
        # argparse reports a sub-command's unknown options from the top-level parser: the sub-command says it, unless
        # they come before the sub-command's name
        argv = list(sys.argv[1:] if args is None else args)
        parsed, extras = self.parse_known_args(argv, namespace)
        if extras:
            command: str = getattr(parsed, "command", None) or ""
            before = extras[0] in argv and command in argv and argv.index(extras[0]) < argv.index(command)
            (self if before else self.commands.get(command, self)).error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed


def build_parser() -> argparse.ArgumentParser:
    from edgebench.benchmarks.variants.shapes import add_input_args
    p = _Parser(prog="bench", description="Measure a model on LiteRT (TFLite) and ONNX Runtime for the CPU you "
                "deploy to: latency, memory and accuracy, side by side.")
    p.add_argument("--version", action="version", version=f"edgebench {_version()}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    p.commands = sub.choices

    run = sub.add_parser("run", help="convert, measure and report one model on one hardware profile",
                         description="Convert MODEL to the profile's variants, check each against the source "
                         "model's outputs, time each in isolated pyperf workers, and write results.json, "
                         "pyperf.json and a table.", epilog=RUN_EPILOG,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("model", nargs="?", metavar="MODEL", help="model file or SavedModel directory "
                     "(default: the embedded MobileNetV2-class digits classifier)")
    run.add_argument("--profile", help="built-in profile name (bench profiles) or path of a TOML file "
                     "(default: the profile of this machine's architecture)")
    run.add_argument("--threads", type=_int_list, help="thread counts, e.g. 1,2 (default: the profile's)")
    run.add_argument("--batch", type=_int_list, help="batch sizes, e.g. 1,8 (default: the profile's)")
    run.add_argument("--variants", help="comma-separated variant names (default: the profile's)")
    run.add_argument("--data", metavar="FILE.npz|DIR", help="inputs (and labels y) for accuracy and calibration; a "
                     "folder of images (jpg/png, labels from sub-folder names), preprocessed as the model says")
    add_input_args(run)
    from edgebench.benchmarks.run.image_data import add_accuracy_args
    add_accuracy_args(run)  # --output NAME=KIND, --preprocess
    run.add_argument("--out", metavar="DIR", help="run directory (default: ./bench-results/<time>-<profile>/)")
    mode = run.add_mutually_exclusive_group()
    mode.add_argument("--fast", action="store_true", help="few processes: seconds per benchmark (development, CI)")
    mode.add_argument("--rigorous", action="store_true", help="more processes and values, for publication")
    run.add_argument("--exhaustive", action="store_true", help="no screening, no early stop (implied by --rigorous)")
    run.add_argument("--timeout", type=_positive_float, metavar="SECONDS",
                     help="limit for each conversion check and each batch of benchmark processes (default 600)")
    run.add_argument("--resume", metavar="DIR", help="finish an interrupted run in DIR with its own options: "
                     "measure only what is missing, re-try what failed, keep what was measured")
    run.add_argument("--json", action="store_true", help="print results.json on stdout (table and progress go to stderr)")
    run.add_argument("--op-profile", action="store_true",
                     help="also record ONNX Runtime's per-node profile of each ONNX variant (DIR/op_profile/) and "
                     "show the operators that dominate")
    run.add_argument("--quiet", action="store_true", help="no progress (by default a bar on a terminal, else one "
                     "line per stage and per finished benchmark on stderr)")
    run.add_argument("--wide", action="store_true", help="the full table: every column, and each benchmark's "
                     "warnings and notes in its row (default: the decision, then a table that fits 100 columns)")

    cmp_ = sub.add_parser("compare", help="compare two runs record by record (ratio of medians, significance)",
                          description="For every record present in both runs: B's median over A's and a two-sided "
                          "Welch t-test on the raw samples (as pyperf compare_to). A run is a run directory or its "
                          "results.json.", epilog="exit codes: 0 no regression (or no threshold given); 1 a record is "
                          "significantly slower by more than --fail-on-regression PCT; 2 bad input.")
    cmp_.add_argument("a", metavar="A", help="baseline run")
    cmp_.add_argument("b", metavar="B", help="run to compare with the baseline")
    cmp_.add_argument("--fail-on-regression", type=float, metavar="PCT",
                      help="exit 1 when B is significantly slower than A by more than PCT percent (for CI)")
    cmp_.add_argument("--json", action="store_true", help="print the comparison as JSON")

    rep = sub.add_parser("report", help="merge one or more runs into one shareable HTML report",
                         description="Write one self-contained HTML report of one or more runs (for example an x86 "
                         "server and an arm64 board, or two profiles): recommended variants, every record, latency "
                         "distributions, accuracy vs latency, memory, scaling, LiteRT vs ONNX Runtime, environments "
                         "and warnings.", epilog=REPORT_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    rep.add_argument("runs", nargs="+", metavar="RUN", help="run directory (bench run --out) or its results.json")
    rep.add_argument("-o", "--output", metavar="FILE.html", default="report.html",
                     help="the report to write (default: report.html; a directory gets DIR/report.html)")
    rep.add_argument("--plotly", choices=["embed", "cdn"], default="embed",
                     help="embed plotly.js (default: opens offline and as an attachment, ~5 MB) or load it from "
                     "the plotly CDN (~100 kB, needs network to show the charts)")
    rep.add_argument("--table", choices=["short", "wide"], help="also print each run's table: short (fits 100 "
                     "columns, warnings grouped) or wide (every column, each benchmark's warnings in its row)")

    opt = sub.add_parser("optimize", help="write the profile's deployable variants and a lineage manifest (no measuring)",
                         description="Convert, simplify, graph-optimize and quantize MODEL as the profile says, copy "
                         "each variant to DIR as <variant>.<ext> and write DIR/manifest.json: sha256, size, pass, "
                         "settings, parent and the full lineage of every file. Nothing is measured; converted files "
                         "are cached, so a second call converts nothing.")
    opt.add_argument("model", nargs="?", metavar="MODEL", help="model file or SavedModel directory "
                     "(default: the embedded MobileNetV2-class digits classifier)")
    opt.add_argument("--profile", help="built-in profile name or path of a TOML file (default: this machine's)")
    opt.add_argument("--variants", help="comma-separated variant names (default: the profile's)")
    opt.add_argument("--data", metavar="FILE.npz", help="calibration inputs (default: the embedded data for the "
                     "default model, else random data, loudly flagged)")
    opt.add_argument("--out", metavar="DIR", required=True, help="where the files and manifest.json go")
    opt.add_argument("--quiet", action="store_true", help="no progress (a bar on a terminal, else plain lines)")

    card_command.add_parser(sub)  # bench card: its own module
    profiles_command.add_parser(sub)
    target_command.add_parser(sub)  # sets its own handler
    from edgebench.benchmarks.fleet import command as fleet_command  # bench node, and bench run --cluster
    fleet_command.add_parser(sub, run)
    from edgebench.benchmarks.size.command import add_parser as add_size_parser
    add_size_parser(sub)
    return p


def _version() -> str:
    from edgebench.results import __version__
    return __version__


def _console(stderr: bool) -> Console:
    from rich.console import Console
    return Console(stderr=stderr, no_color=bool(os.environ.get("NO_COLOR")) or None)


def cmd_compare(args: argparse.Namespace) -> int:
    from edgebench.reports.compare import compare_runs, compare_text, regressions

    result = compare_runs(args.a, args.b)
    _warn_skipped(result["skipped"])
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


def _default_profile() -> str:
    from edgebench.hardware_profiles import host_arch
    return "arm64" if host_arch() == "arm64" else "x86_64"


def cmd_run(args: argparse.Namespace) -> int:
    from edgebench.benchmarks.progress import reporter_for
    from edgebench.benchmarks.run import resume
    from edgebench.benchmarks.run.options import RunOptions
    from edgebench.benchmarks.run.pipeline import run_benchmarks
    from edgebench.hardware_profiles import load_profile
    from edgebench.reports.terminal.screen import print_decision, print_short, print_wide, say

    if args.resume:
        resume.check_resume_flags(args)
        opts = resume.options_from_run(args.resume, args.timeout)
        opts.cluster = args.cluster or opts.cluster
        out = opts.out
    else:
        profile = load_profile(args.profile or _default_profile())
        out = Path(args.out) if args.out else Path("bench-results") / (
            dt.datetime.now().strftime("%Y%m%d-%H%M%S") + f"-{profile.name}")
        if out.exists() and (not out.is_dir() or any(p.name != ".lock" for p in out.iterdir())):
            raise _user_error(f"output directory {out} is not empty; choose another --out (or --resume {out})")
        mode = "fast" if args.fast else "rigorous" if args.rigorous else "default"
        opts = RunOptions(profile=profile, out=out, model=args.model, threads=args.threads, batches=args.batch,
                          variants=[v.strip() for v in args.variants.split(",") if v.strip()] if args.variants else None,
                          data=args.data, mode=mode, timeout=args.timeout or 600.0, op_profile=args.op_profile,
                          exhaustive=args.exhaustive or mode == "rigorous", cluster=args.cluster,
                          input_shapes=dict(args.input_shape or []), vocab_size=args.vocab_size,
                          output_kinds=dict(args.output_kind) if args.output_kind else None, preprocess=args.preprocess)
    lock = resume.lock_run_dir(out)  # noqa: F841  (held until this process ends)
    if args.resume:
        resume.stop_leftovers(opts.run_id)
    err_console = _console(True)
    out_console = err_console if args.json else _console(False)
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
    say(out_console, [f"results: {out / 'results.json'}", f"pyperf: {out / 'pyperf.json'}", _write_run_report(out)],
        wrapped=False)
    if args.json:
        sys.stdout.write((out / "results.json").read_text(encoding="utf-8") + "\n")
    failed = [r for r in doc["results"] if r["status"] != "ok"]
    return EXIT_FAILED_RECORDS if failed or not doc["results"] else EXIT_OK


def cmd_optimize(args: argparse.Namespace) -> int:
    from edgebench.benchmarks.progress import reporter_for
    from edgebench.benchmarks.run.optimize import optimize_model
    from edgebench.hardware_profiles import load_profile

    profile = load_profile(args.profile or _default_profile())
    out = Path(args.out)
    if out.exists() and any(out.iterdir()):
        raise _user_error(f"output directory {out} is not empty; choose another --out")
    console = _console(False)
    with reporter_for(_console(True), args.quiet) as reporter:
        doc = optimize_model(args.model, profile, out,
                             [v.strip() for v in args.variants.split(",") if v.strip()] if args.variants else None,
                             args.data, reporter)
    for e in doc["variants"]:
        if e["status"] == "ok":
            line = f"{e['variant']:32s} {e['file']:40s} {e['size_bytes'] / 1e6:8.2f} MB  {'; '.join(e['notes'])}"
        else:
            line = f"{e['variant']:32s} {e['status'].upper()}: {e.get('error') or e.get('reason')}"
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    if doc["calibration_data"]["kind"] == "random":
        from edgebench.optimizers.calibration import RANDOM_CALIBRATION_NOTE
        console.print(f"warning: {RANDOM_CALIBRATION_NOTE}", markup=False, highlight=False, soft_wrap=True)
    for note in doc["notes"]:
        console.print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)
    console.print(f"manifest: {out / 'manifest.json'}", markup=False, highlight=False)
    return EXIT_FAILED_RECORDS if any(e["status"] == "failed" for e in doc["variants"]) else EXIT_OK

def _write_run_report(out: Path) -> str:
    """Write report.html beside results.json; returns the line that tells the user where it is (or why not)."""
    try:
        from edgebench.reports.html.page import REPORT_FILE, write_report
        path = write_report([out], out / REPORT_FILE)
    except Exception as exc:  # the measurements are on disk already: a report problem must not fail the run
        return f"report.html not written ({type(exc).__name__}: {' '.join(str(exc).split())[:200]}); " \
               f"try: bench report {out}"
    return f"report: {path}"


def cmd_report(args: argparse.Namespace) -> int:
    from edgebench.reports.html.page import REPORT_FILE, render_report
    from edgebench.reports.rundata import load_run_data
    from edgebench.reports.terminal.screen import print_decision, print_short, print_wide, say
    from edgebench.results.contract import SKIPPED_KEY

    out = Path(args.output)
    if out.is_dir():
        out = out / REPORT_FILE
    if not out.parent.is_dir():
        raise _user_error(f"cannot write {out}: directory {out.parent} does not exist")
    runs = load_run_data(args.runs)
    _warn_skipped([w for run in runs for w in run.doc[SKIPPED_KEY]])
    text = render_report(runs, plotly=args.plotly)
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise _user_error(f"cannot write {out}: {exc.strerror or exc}") from None
    console = _console(False)
    for run in runs:
        print_decision(console, run.doc, heading=f"{run.label}:")
        if args.table == "wide":
            print_wide(console, run.doc)
        elif args.table == "short":
            print_short(console, run.doc, f"bench report {run.source} --table wide")
    size = out.stat().st_size
    say(console, [f"report: {out} ({size / 1e6:.2f} MB, {len(runs)} run{'s' * (len(runs) != 1)}, plotly.js "
                  f"{'embedded' if args.plotly == 'embed' else 'from the CDN'})"])
    return EXIT_OK


def _warn_skipped(lines: list[str]) -> None:
    """Damaged records that a reader left out: one warning line each, the rest of the file is still reported."""
    for line in lines:
        sys.stderr.write(f"bench: warning: skipped a damaged record: {line}\n")


def _user_error(msg: str) -> Exception:
    from edgebench.results.errors import UserError
    return UserError(msg)


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    # TensorFlow's C++ logging is read at import time; quiet it before anything can import TF.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # TensorFlow only converts and computes the reference outputs: its standard kernels (not oneDNN's reordered
    # float math) make the reference reproducible across CPUs, and silence its start-up banner.
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    # SIGTERM ends a run like Ctrl-C: child processes are stopped and the resume hint is printed
    signal.signal(signal.SIGTERM, _terminate)
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return EXIT_USAGE
    from edgebench.hardware_profiles import ProfileError
    from edgebench.optimizers.convert import ConversionError
    from edgebench.results.errors import ResultsError, UserError
    try:
        commands = {"optimize": cmd_optimize, "compare": cmd_compare, "report": cmd_report,
                    "card": card_command.cmd_card}
        handler: Callable[[argparse.Namespace], int] = getattr(args, "handler", None) or cmd_run  # set_defaults
        return commands.get(args.command, handler)(args)
    except (UserError, ProfileError, ResultsError, ConversionError) as exc:
        sys.stderr.write(f"bench: error: {' '.join(str(exc).split())}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write("bench: interrupted\n")
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
