"""The `bench` command: the top-level parser and the dispatch to the sub-commands in benchmarks/commands/.

Imports here stay light: TensorFlow and the runtimes load only inside the work that needs them.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable, Sequence

from edgebench.benchmarks.commands import card, compare, node, optimize, profiles, report, run, size, target
from edgebench.benchmarks.commands.args import EXIT_INTERRUPTED, EXIT_USAGE, BenchParser

# the order of `bench --help`
COMMANDS = (run, compare, report, optimize, card, profiles, target, node, size)


def build_parser() -> argparse.ArgumentParser:
    p = BenchParser(prog="bench", description="Measure a model on LiteRT (TFLite) and ONNX Runtime for the CPU you "
                    "deploy to: latency, memory and accuracy, side by side.")
    p.add_argument("--version", action="version", version=f"edgebench {_version()}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=BenchParser)
    p.commands = sub.choices
    for command in COMMANDS:
        command.register(sub)
    return p


def _version() -> str:
    from edgebench.results import __version__
    return __version__


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
    handler: Callable[[argparse.Namespace], int] = args.handler  # every sub-command sets its own (register)
    try:
        return handler(args)
    except (UserError, ProfileError, ResultsError, ConversionError) as exc:
        sys.stderr.write(f"bench: error: {' '.join(str(exc).split())}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write("bench: interrupted\n")
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
