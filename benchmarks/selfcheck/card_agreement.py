"""Self-check of the deployment card: does its static verdict (shipped registries, no network) agree with the real
load test in each release? Run on demand:

    python benchmarks/selfcheck/card_agreement.py [--from OPTIMIZE_DIR] [--keep DIR]

Models: every stand-in (benchmarks/card/standins.py: Paddle-style Constants with symbolic H/W, a Reshape needing H
and W > 1, a YOLOv8-style head, the test classifiers) and every ONNX variant of the default model (`bench optimize`,
cached conversions; or --from a `bench optimize` directory). Rows: every ML.NET release; a release whose wheel this
machine cannot get is left out (said). For each (model, release) the static card's verdict is compared with the
load-tested card's; a disagreement counts as explained when the load-tested card itself says so. The answer line
of every card is checked against its rows. Prints the agreement table; exit 1 when a disagreement is unexplained or
an answer contradicts its rows.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any


def _models(folder: Path, optimized: Path | None) -> list[tuple[str, Path]]:
    from edgebench.benchmarks.card.inputs import resolve
    from edgebench.benchmarks.card.standins import write_stand_ins

    out = [(f"stand-in {name}", path) for name, path in write_stand_ins(folder / "stand-ins").items()]
    if optimized is None:
        optimized = folder / "default-model"
        subprocess.run([sys.executable, "-m", "edgebench.benchmarks.cli", "optimize", "--out", str(optimized),
                        "--quiet"], check=True)
    out += [(f"default {v.name}", v.path) for v in resolve(str(optimized), None).variants]
    return out


def _cards(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    from edgebench.benchmarks.card.build import variant_card
    from edgebench.benchmarks.card.inputs import CardInput, OnnxVariant
    from edgebench.benchmarks.card.releases import MLNET

    found = CardInput([OnnxVariant(path.stem, path)], None, "onnx", path.parent)
    static = variant_card(found.variants[0], found, list(MLNET), [], None)
    tested = variant_card(found.variants[0], found, list(MLNET), [t.key for t in MLNET], None)
    return static, tested


def _compare(name: str, static: dict[str, Any], tested: dict[str, Any]) -> list[list[str]]:
    from edgebench.benchmarks.card.matrix import answer_agrees

    rows = []
    by_key = {r["key"]: r for r in static["rows"]}
    for r in tested["rows"]:
        s = by_key[r["key"]]
        verdict = "loads" if s["ok"] else "FAILS"
        if r["checked"] != "load-tested":
            rows.append([name, r["label"], verdict, "-", "not load-tested: " + r["load_test"]["detail"][:60]])
            continue
        loaded = "loads" if r["ok"] else "FAILS"
        agree = "yes" if bool(s["ok"]) == bool(r["ok"]) else "explained" if r.get("disagreement") else "NO"
        rows.append([name, r["label"], verdict, loaded, agree])
    for card in (static, tested):
        if not answer_agrees(card["answer"], card["rows"]):
            rows.append([name, "answer line", "-", "-", f"NO: contradicts its rows: {card['answer']}"])
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--from", dest="source", type=Path, help="a bench optimize directory of the default model")
    ap.add_argument("--keep", type=Path, help="write the stand-ins here (default: a temporary directory)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="edgebench-agreement-") as tmp:
        folder = args.keep or Path(tmp)
        table = []
        for name, path in _models(folder, args.source):
            table += _compare(name, *_cards(path))
    widths = [max(len(r[i]) for r in table) for i in range(4)]
    print("model".ljust(widths[0]), "release".ljust(widths[1]), "static".ljust(widths[2]),
          "load test".ljust(widths[3]), "agree")
    for r in table:
        print(*(c.ljust(w) for c, w in zip(r, widths)), r[4])
    pairs = [r for r in table if r[3] != "-"]
    agree = sum(r[4] == "yes" for r in pairs)
    explained = sum(r[4] == "explained" for r in pairs)
    bad = [r for r in table if r[4].startswith("NO")]
    print(f"\n{agree}/{len(pairs)} (model, release) pairs agree ({100 * agree / max(len(pairs), 1):.0f}%), "
          f"{explained} disagreements explained in the card, {len(bad)} unexplained or contradicting; "
          f"{len(table) - len(pairs) - len([r for r in bad if r[1] == 'answer line'])} rows not load-tested")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
