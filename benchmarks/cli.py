"""The `bench` command. Imports here stay light: TensorFlow and the runtimes load only inside the work that needs them."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Sequence

EXIT_OK, EXIT_FAILED_RECORDS, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

RUN_EPILOG = """\
examples:
  bench run                                  # embedded default model, profile of this machine's architecture
  bench run model.keras --profile arm64      # a Keras file; arm64 timings on an x86 host are labelled HOST timings
  bench run model.tflite --threads 1,4 --fast
  bench run model.onnx --data inputs.npz --out results/onnx-x86

MODEL is a .keras file (loaded in Keras safe mode), a SavedModel directory, a .tflite or an .onnx file.
--data FILE.npz holds one array per model input (named as the input; 'x' for a single input), samples along
axis 0, and optionally integer labels 'y'. Without it a user model is checked on random inputs, loudly flagged.

modes: --fast (3 processes, for development and CI), default (10 processes), --rigorous (20 processes).
Each value is one inference timed in a fresh pyperf worker process that imports only the runtime it measures.

exit codes: 0 all benchmarks ok; 1 some benchmark failed (its record says why, the others are kept);
2 bad input (one line on stderr); 130 interrupted (what was measured is on disk)."""


def _int_list(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated positive integers, got {text!r}") from None
    if not values or any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected comma-separated positive integers, got {text!r}")
    return values


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, as for every user error
        self.exit(EXIT_USAGE, f"bench: error: {message} (see bench {self.prog.split()[-1]} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="bench", description="Measure a model on LiteRT (TFLite) and ONNX Runtime for the CPU you "
                "deploy to: latency, memory and accuracy, side by side.")
    p.add_argument("--version", action="version", version=f"edgebench {_version()}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

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
    run.add_argument("--data", metavar="FILE.npz", help="inputs (and labels y) for accuracy and calibration")
    run.add_argument("--out", metavar="DIR", help="run directory (default: ./bench-results/<time>-<profile>/)")
    mode = run.add_mutually_exclusive_group()
    mode.add_argument("--fast", action="store_true", help="few processes: seconds per benchmark (development, CI)")
    mode.add_argument("--rigorous", action="store_true", help="more processes and values, for publication")
    run.add_argument("--timeout", type=float, default=600.0, metavar="SECONDS",
                     help="limit for each conversion check and each benchmark (default 600)")
    run.add_argument("--json", action="store_true", help="print results.json on stdout (table and progress go to stderr)")

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

    prof = sub.add_parser("profiles", help="list hardware profiles, or show one",
                          description="List the built-in hardware profiles, or show one's settings. A profile names a "
                          "deployment target; --profile also accepts the path of your own TOML file.")
    prof.add_argument("action", nargs="?", choices=["list", "show"], default="list")
    prof.add_argument("name", nargs="?", help="profile name or TOML path (for show)")
    return p


def _version() -> str:
    from benchmarks import __version__
    return __version__


def _console(stderr: bool):
    from rich.console import Console
    return Console(stderr=stderr, no_color=bool(os.environ.get("NO_COLOR")) or None)


def cmd_profiles(args: argparse.Namespace) -> int:
    from rich.table import Table

    from hardware_profiles import builtin_profiles, load_profile
    console = _console(False)
    if args.action == "show":
        if not args.name:
            raise _user_error("bench profiles show needs a profile name or path")
        prof = load_profile(args.name)
        console.print(f"[bold]{prof.name}[/bold]: {prof.description}  (target {prof.target_arch}; {prof.source})")
        import pprint
        for section, value in prof.raw.items():
            if isinstance(value, dict):
                console.print(f"[{section}]", markup=False)
                for k, v in value.items():
                    console.print(f"  {k} = {pprint.pformat(v, compact=True)}", markup=False)
        return EXIT_OK
    table = Table(title="hardware profiles (bench profiles show NAME)")
    for col in ("name", "target", "threads", "batch", "variants", "description"):
        table.add_column(col)
    for name in builtin_profiles():
        p = load_profile(name)
        table.add_row(p.name, p.target_arch, ",".join(map(str, p.threads)), ",".join(map(str, p.batch)),
                      ", ".join(p.variants), p.description)
    console.print(table)
    return EXIT_OK


def _default_profile() -> str:
    from hardware_profiles import host_arch
    return "arm64" if host_arch() == "arm64" else "x86_64"


def cmd_run(args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from benchmarks.pipeline import RunOptions, run_benchmarks
    from hardware_profiles import load_profile
    from reports.table import plain_table, results_table, run_messages

    profile = load_profile(args.profile or _default_profile())
    out = Path(args.out) if args.out else Path("bench-results") / (
        dt.datetime.now().strftime("%Y%m%d-%H%M%S") + f"-{profile.name}")
    if out.exists() and any(out.iterdir()):
        raise _user_error(f"output directory {out} is not empty; choose another --out")
    mode = "fast" if args.fast else "rigorous" if args.rigorous else "default"
    opts = RunOptions(profile=profile, out=out, model=args.model, threads=args.threads, batches=args.batch,
                      variants=[v.strip() for v in args.variants.split(",") if v.strip()] if args.variants else None,
                      data=args.data, mode=mode, timeout=args.timeout)
    err_console = _console(True)
    out_console = err_console if args.json else _console(False)
    progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=err_console, transient=True)
    reporter = _SimpleReporter(progress)
    out.mkdir(parents=True, exist_ok=True)
    try:
        with progress:
            doc = run_benchmarks(opts, reporter)
    except KeyboardInterrupt:
        err_console.print(f"interrupted: what was measured is in {out}")
        return EXIT_INTERRUPTED
    if out_console.is_terminal and not os.environ.get("NO_COLOR"):
        out_console.print(results_table(doc))
    else:
        out_console.print(plain_table(doc), markup=False, highlight=False, soft_wrap=True)
    for line in run_messages(doc):
        out_console.print(line, markup=False, highlight=False, soft_wrap=True)
    out_console.print(f"results: {out / 'results.json'}  pyperf: {out / 'pyperf.json'}", markup=False,
                      highlight=False)
    if args.json:
        sys.stdout.write((out / "results.json").read_text(encoding="utf-8") + "\n")
    failed = [r for r in doc["results"] if r["status"] != "ok"]
    return EXIT_FAILED_RECORDS if failed or not doc["results"] else EXIT_OK


def cmd_optimize(args: argparse.Namespace) -> int:
    from benchmarks.optimize import optimize_model
    from hardware_profiles import load_profile

    profile = load_profile(args.profile or _default_profile())
    out = Path(args.out)
    if out.exists() and any(out.iterdir()):
        raise _user_error(f"output directory {out} is not empty; choose another --out")
    console = _console(False)
    doc = optimize_model(args.model, profile, out,
                         [v.strip() for v in args.variants.split(",") if v.strip()] if args.variants else None,
                         args.data)
    for e in doc["variants"]:
        if e["status"] == "ok":
            line = f"{e['variant']:32s} {e['file']:40s} {e['size_bytes'] / 1e6:8.2f} MB  {'; '.join(e['notes'])}"
        else:
            line = f"{e['variant']:32s} {e['status'].upper()}: {e.get('error') or e.get('reason')}"
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    if doc["calibration_data"]["kind"] == "random":
        from optimizers.calibration import RANDOM_CALIBRATION_NOTE
        console.print(f"warning: {RANDOM_CALIBRATION_NOTE}", markup=False, highlight=False, soft_wrap=True)
    for note in doc["notes"]:
        console.print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)
    console.print(f"manifest: {out / 'manifest.json'}", markup=False, highlight=False)
    return EXIT_FAILED_RECORDS if any(e["status"] == "failed" for e in doc["variants"]) else EXIT_OK


class _SimpleReporter:
    """Rich progress: one bar per stage; advance() names the item being worked on and counts the previous one done."""

    def __init__(self, progress) -> None:
        self.progress = progress
        self.task = None
        self.pending = False

    def stage(self, text: str, total: int | None = None) -> None:
        if self.task is not None:
            self.progress.remove_task(self.task)
        self.task = self.progress.add_task(text, total=total)
        self.base = text
        self.pending = False

    def advance(self, text: str | None = None) -> None:
        if self.task is None:
            return
        self.progress.update(self.task, advance=1 if self.pending else 0,
                             description=f"{self.base}: {text}" if text else self.base)
        self.pending = True

    def note(self, text: str) -> None:
        self.progress.console.print(text, markup=False)


def _user_error(msg: str) -> Exception:
    from benchmarks.errors import UserError
    return UserError(msg)


def main(argv: Sequence[str] | None = None) -> int:
    # TensorFlow's C++ logging is read at import time; quiet it before anything can import TF.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return EXIT_USAGE
    from benchmarks.errors import UserError
    from hardware_profiles import ProfileError
    from optimizers.convert import ConversionError
    from reports.results import ResultsError
    try:
        if args.command == "profiles":
            return cmd_profiles(args)
        if args.command == "optimize":
            return cmd_optimize(args)
        return cmd_run(args)
    except (UserError, ProfileError, ResultsError, ConversionError) as exc:
        sys.stderr.write(f"bench: error: {' '.join(str(exc).split())}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write("bench: interrupted\n")
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
