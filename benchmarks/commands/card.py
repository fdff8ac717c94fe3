"""`bench card`: the deployment card for ONNX consumers (will it load in ML.NET X, and how to feed it)."""
from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path
from typing import Any

from edgebench.benchmarks.commands.args import EXIT_OK, Subparsers

CARD_EPILOG = """\
examples:
  bench card                                   # the embedded default model, converted to ONNX (cached)
  bench card model.onnx                        # one ONNX file: card in ./model-card/
  bench card bench-results/run1                # every ONNX variant of a run; card.md/card.json in the run dir
  bench card deploy/ --variant onnx-fp32       # a `bench optimize` directory, one variant
  bench card model.onnx --for onnxruntime-1.16 # add a row for a plain onnxruntime
  bench card ocr.onnx --input-shape x=1,3,48,320  # the shape its load tests run on (else chosen from the model)
  bench card model.onnx --static               # no load tests, no network
  bench card model.onnx --fix mlnet-2.0        # write model.mlnet-2.0.onnx at the opset/IR ML.NET 2.0 loads

Rows: ML.NET 2.0.x (onnxruntime 1.10.0), 3.0.x (1.14.0), 4.0.x (1.18.1), 5.0.x (1.23.2), plus each --for
onnxruntime-X.Y. Each row is checked statically against the kernel registry shipped for that onnxruntime, then
load-tested: loaded and run in that exact onnxruntime, installed from your pip index into a cached environment
($EDGEBENCH_ORT_ENVS, default ~/.cache/edgebench/ort-envs; first use says what it downloads). A release without a
wheel for any Python here, or an index that cannot be reached, leaves the row static, marked so. Symbolic input
dims come from --input-shape, --data, else the model's hints (metadata, other inputs, a typical image size), and
the card states them.

exit codes: 0 card written; 2 bad input (one line on stderr)."""


def register(sub: Subparsers) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "card", help="deployment card for ONNX consumers: will it load in ML.NET X, and how to feed it",
        description="For each ONNX variant: a compatibility matrix per ML.NET release / onnxruntime version (IR, "
        "opsets, every operator against that runtime's CPU kernels), the exact I/O contract, the pre-processing "
        "recipe mapped to ML.NET transforms, C# to paste, and the pitfalls keyed by the exception texts. Writes "
        "card.md and card.json.", epilog=CARD_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("target", nargs="?", metavar="MODEL_OR_RUN", help="an .onnx file, a run directory, a bench "
                   "optimize directory, or a .keras/.tflite/SavedModel (converted to ONNX; default: the embedded model)")
    p.add_argument("--variant", action="append", default=[], metavar="NAME", help="only this variant (repeatable)")
    p.add_argument("--for", dest="targets", action="append", default=[], metavar="TARGET",
                   help="mlnet-5.0|mlnet-4.0|mlnet-3.0|mlnet-2.0|onnxruntime-X.Y[.Z]; an onnxruntime row is added "
                   "to the ML.NET rows (repeatable)")
    p.add_argument("--load-test", action="store_true", help="the default: every row is loaded and run in its exact "
                   "onnxruntime (kept for old scripts)")
    p.add_argument("--static", action="store_true", help="static check only: no load test, nothing installed")
    from edgebench.benchmarks.card.cardargs import add_shape_args
    add_shape_args(p)
    p.add_argument("--fix", metavar="TARGET", help="write <variant>.<TARGET>.onnx lowered to the opset/IR that "
                   "TARGET loads, and check it")
    p.add_argument("--rename", action="store_true", help="also write <variant>.renamed.onnx whose inputs/outputs "
                   "have no ':0' suffix or 'serving_default_' prefix")
    p.add_argument("--preprocess", metavar="STATEMENT", help="how inputs are scaled when the model does not say: "
                   "'mean=127.5 std=127.5' or per channel 'mean=123.7,116.3,103.5 std=58.4,57.1,57.4' (0-255 units)")
    p.add_argument("--out", metavar="DIR", help="where card.md/card.json go (default: the run/optimize directory, "
                   "else ./<model>-card/)")
    p.add_argument("--json", action="store_true", help="print card.json on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from edgebench.benchmarks.card.build import card_document, variant_card, write_card
    from edgebench.benchmarks.card.cardargs import guarded
    from edgebench.benchmarks.card.inputs import default_statement, resolve
    from edgebench.benchmarks.card.releases import MLNET, parse_target
    from edgebench.results.errors import UserError

    installed = _installed()
    named = [parse_target(t, installed) for t in args.targets]  # a bad name fails before any conversion
    fix = parse_target(args.fix, installed) if args.fix else None
    if args.preprocess:
        from edgebench.benchmarks.card.preprocess import parse_statement
        parse_statement(args.preprocess)
    def say(text: str) -> None:
        if not args.quiet:
            sys.stderr.write(f"card: {text}\n")

    found = resolve(args.target, args.out)
    if args.variant:
        unknown = [v for v in args.variant if v not in {x.name for x in found.variants}]
        if unknown:
            raise UserError(f"no ONNX variant {unknown[0]!r} here (have: {', '.join(x.name for x in found.variants)})")
        found.variants = [v for v in found.variants if v.name in args.variant]
    targets = list(MLNET) + [t for t in named if t not in MLNET]
    load = [] if args.static else [t.key for t in targets]
    default_pre = default_statement(found)
    cards = []
    for v in found.variants:
        say(f"checking {v.name} ({v.path.name})")
        card = guarded(v.name, functools.partial(variant_card, v, found, targets, load, args.preprocess, say,
                                                 default_pre, dict(args.input_shape or []), args.data))
        if fix:
            card["fix"] = _apply_fix(v.path, fix, found.out, targets, card)
        if args.rename and card["io"]["renames"]:
            from edgebench.benchmarks.card.fixes import rename_io
            found.out.mkdir(parents=True, exist_ok=True)
            made = rename_io(v.path, found.out / f"{v.name}.renamed.onnx", card["io"]["renames"])
            card["renamed"] = {"file": str(made), "renames": card["io"]["renames"]}
        from edgebench.benchmarks.card.golden import write_golden
        found.out.mkdir(parents=True, exist_ok=True)
        card["golden"] = write_golden(v.path, card["io"]["inputs"], v.accuracy, found.out / f"golden-{v.name}.json",
                                      card["shapes"])
        cards.append(card)
    doc = card_document(cards, found)
    js, md = write_card(doc, found.out)
    from edgebench.reports.card.markdown import card_summary
    print(card_summary(doc))
    print(f"card: {md}\ncard data: {js}")
    if args.json:
        sys.stdout.write(js.read_text(encoding="utf-8") + "\n")
    return EXIT_OK


def _installed() -> str | None:
    from edgebench.benchmarks.card.build import _installed_ort
    return _installed_ort()


def _apply_fix(path: Path, target: Any, out: Path, targets: list[Any], card: dict[str, Any]) -> dict[str, Any]:
    from edgebench.benchmarks.card.fixes import lower_opset
    from edgebench.benchmarks.card.matrix import static_row
    from edgebench.benchmarks.card.model_facts import read_model

    row = next((r for r in card["rows"] if r["key"] == target.key), None) or static_row(read_model(path), target)
    if row["ok"]:
        return {"target": target.key, "detail": f"nothing to fix: it loads in {row['label']}", "file": None}
    if not {p["kind"] for p in row["problems"]} & {"ir", "opset", "unused-opset"}:
        return {"target": target.key, "file": None, "detail": "--fix lowers opset/IR only, which is not what fails "
                "here: " + " / ".join(row.get("fixes") or [])}
    limits = row.get("limits") or {}
    out.mkdir(parents=True, exist_ok=True)
    dest = out / f"{path.stem}.{target.key}.onnx"
    made, detail = lower_opset(path, dest, limits["max_opset"], limits["max_ir_version"])
    result: dict[str, Any] = {"target": target.key, "detail": detail, "file": str(made) if made else None}
    if made:
        checked = static_row(read_model(made), target)
        result.update(ok=checked["ok"], problems=checked["problems"])
    return result
