"""`bench target setup|status [TARGET]`: the emulated target environment that checks accuracy on target kernels."""
from __future__ import annotations

import argparse
import sys

from edgebench.benchmarks.commands.args import EXIT_FAILED_RECORDS, EXIT_OK, Subparsers

EPILOG = """\
examples:
  bench target setup arm64      # prepare once (about 300 MB; a second call does nothing)
  bench target status arm64     # ready, or what is missing
  bench run --profile arm64     # then every variant's accuracy is also checked on the arm64 kernels

What setup prepares, in ~/.cache/edgebench/targets/arm64 ($EDGEBENCH_TARGETS/arm64 when set): the aarch64 CPython
of this Python's minor version from Debian's arm64 packages (your own apt sources), the aarch64 wheels of exactly
the onnxruntime, ai-edge-litert and numpy versions installed here (your own pip index and settings), and a qemu
user-mode emulator of version 8.2 or newer: the system's when it is new enough, else Debian trixie's qemu-user
unpacked into the same folder (nothing is installed system-wide, no root needed). Emulation checks numerics only:
it is 85-1300x slower than the real CPU and no emulated time is ever reported.

exit codes: 0 ready; 1 it could not be prepared (one line says why: offline, no apt, no matching Python).
"""


def register(sub: Subparsers) -> None:
    p = sub.add_parser("target", help="prepare the emulated arm64 environment that checks accuracy on ARM kernels",
                       description="Prepare (setup) or check (status) the emulated environment in which bench run "
                       "--profile arm64/mobile evaluates every variant on the real aarch64 builds of ONNX Runtime "
                       "and LiteRT under qemu.", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("action", choices=["setup", "status"], help="setup: prepare it (idempotent); status: report it")
    p.add_argument("name", nargs="?", default="arm64", metavar="TARGET", help="target (default and only: arm64)")
    p.add_argument("--quiet", action="store_true", help="no progress (a bar on a terminal, else plain lines)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from edgebench.benchmarks.emulation.environment import TARGETS, TargetEnv, TargetError
    from edgebench.benchmarks.emulation.prepare import describe, setup
    from edgebench.benchmarks.progress import reporter_for
    from edgebench.results.errors import UserError

    if args.name not in TARGETS:
        raise UserError(f"unknown target {args.name!r} (known: {', '.join(TARGETS)})")
    env = TargetEnv.for_target(args.name)
    if args.action == "status":
        problem = env.problem()
        print(problem or "\n".join(describe(env.manifest() or {}, "ready", env.root)))
        return EXIT_FAILED_RECORDS if problem else EXIT_OK
    try:
        with reporter_for(Console(stderr=True), args.quiet) as reporter:
            doc, did = setup(args.name, reporter or _Silent())
    except TargetError as exc:
        sys.stderr.write(f"bench: target setup failed: {' '.join(str(exc).split())}\n")
        return EXIT_FAILED_RECORDS
    print("\n".join(describe(doc, "prepared" if did else "ready (nothing to do)", env.root)))
    return EXIT_OK


class _Silent:
    def stage(self, text: str, total: int | None = None) -> None: ...
    def advance(self, text: str | None = None) -> None: ...
    def note(self, text: str) -> None: ...
