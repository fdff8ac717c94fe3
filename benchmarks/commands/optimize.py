"""`bench optimize`: write the profile's deployable variants and a lineage manifest, measuring nothing."""
from __future__ import annotations

import argparse
from pathlib import Path

from edgebench.benchmarks.commands.args import (
    EXIT_FAILED_RECORDS,
    EXIT_OK,
    Subparsers,
    default_profile,
    name_list,
    user_error,
)
from edgebench.benchmarks.commands.output import console


def register(sub: Subparsers) -> None:
    p = sub.add_parser("optimize", help="write the profile's deployable variants and a lineage manifest (no measuring)",
                       description="Convert, simplify, graph-optimize and quantize MODEL as the profile says, copy "
                       "each variant to DIR as <variant>.<ext> and write DIR/manifest.json: sha256, size, pass, "
                       "settings, parent and the full lineage of every file. Nothing is measured; converted files "
                       "are cached, so a second call converts nothing.")
    p.add_argument("model", nargs="?", metavar="MODEL", help="model file or SavedModel directory "
                   "(default: the embedded MobileNetV2-class digits classifier)")
    p.add_argument("--profile", help="built-in profile name or path of a TOML file (default: this machine's)")
    p.add_argument("--variants", help="comma-separated variant names (default: the profile's)")
    p.add_argument("--data", metavar="FILE.npz", help="calibration inputs (default: the embedded data for the "
                   "default model, else random data, loudly flagged)")
    p.add_argument("--out", metavar="DIR", required=True, help="where the files and manifest.json go")
    p.add_argument("--quiet", action="store_true", help="no progress (a bar on a terminal, else plain lines)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from edgebench.benchmarks.progress import reporter_for
    from edgebench.benchmarks.run.optimize import optimize_model
    from edgebench.hardware_profiles import load_profile

    profile = load_profile(args.profile or default_profile())
    out = Path(args.out)
    if out.exists() and any(out.iterdir()):
        raise user_error(f"output directory {out} is not empty; choose another --out")
    con = console(False)
    with reporter_for(console(True), args.quiet) as reporter:
        doc = optimize_model(args.model, profile, out, name_list(args.variants), args.data, reporter)
    for e in doc["variants"]:
        if e["status"] == "ok":
            line = f"{e['variant']:32s} {e['file']:40s} {e['size_bytes'] / 1e6:8.2f} MB  {'; '.join(e['notes'])}"
        else:
            line = f"{e['variant']:32s} {e['status'].upper()}: {e.get('error') or e.get('reason')}"
        con.print(line, markup=False, highlight=False, soft_wrap=True)
    if doc["calibration_data"]["kind"] == "random":
        from edgebench.optimizers.calibration import RANDOM_CALIBRATION_NOTE
        con.print(f"warning: {RANDOM_CALIBRATION_NOTE}", markup=False, highlight=False, soft_wrap=True)
    for note in doc["notes"]:
        con.print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)
    con.print(f"manifest: {out / 'manifest.json'}", markup=False, highlight=False)
    return EXIT_FAILED_RECORDS if any(e["status"] == "failed" for e in doc["variants"]) else EXIT_OK
