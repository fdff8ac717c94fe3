"""`bench profiles`: list the hardware profiles, or show one's settings."""
from __future__ import annotations

import argparse
import os

from edgebench.benchmarks.commands.args import EXIT_OK, Subparsers


def register(sub: Subparsers) -> None:
    prof = sub.add_parser("profiles", help="list hardware profiles, or show one",
                          description="List the built-in hardware profiles, or show one's settings. A profile names a "
                          "deployment target; --profile also accepts the path of your own TOML file.")
    prof.add_argument("action", nargs="?", choices=["list", "show"], default="list")
    prof.add_argument("name", nargs="?", help="profile name or TOML path (for show)")
    prof.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from edgebench.hardware_profiles import builtin_profiles, load_profile
    from edgebench.results.errors import UserError
    console = Console(no_color=bool(os.environ.get("NO_COLOR")) or None)
    if args.action == "show":
        if not args.name:
            raise UserError("bench profiles show needs a profile name or path")
        prof = load_profile(args.name)
        console.print(f"[bold]{prof.name}[/bold]: {prof.description}  (target {prof.target_arch}; {prof.source})")
        import pprint
        for section, value in prof.raw.items():
            if isinstance(value, dict):
                console.print(f"[{section}]", markup=False)
                for k, v in value.items():
                    console.print(f"  {k} = {pprint.pformat(v, compact=True)}", markup=False)
                if section == "onnxruntime" and prof.onnxruntime.intra_op_spinning is None:
                    console.print("  intra_op_spinning: not set, ONNX Runtime's default (on)", markup=False)
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
