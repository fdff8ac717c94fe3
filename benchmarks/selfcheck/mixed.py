"""Self-benchmark: int8 that keeps its accuracy, on three stand-ins whose full int8 breaks the budget.

For each stand-in of benchmarks/selfcheck/mixed_standins.py (a CNN with sensitive first and last layers, a detector
with a score head, a small transformer encoder) runs `bench run` once with fp32, the profile's static int8
candidates and tflite-int8 at 1 thread, and prints per runtime: fp32, full int8 and mixed latency, accuracy against the budget, the
layers kept in float and the search's time. Run on demand:

    python benchmarks/selfcheck/mixed.py [--profile x86_64] [--fast] [--only cnn,detector]

Exit code 0 when on every stand-in the mixed variant is within the budget and faster than fp32 on a runtime (or
the line says why not), 1 otherwise. Both runtimes are searched: ONNX Runtime (qdq_loss_debug) and LiteRT
(QuantizationDebugger).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

VARIANTS = "onnx-fp32,onnx-static-int8,tflite-fp32,tflite-int8"
RUNTIMES = {"onnxruntime": ("onnx-fp32", "onnx-static-int8", "onnx-static-int8-mixed"),
            "litert": ("tflite-fp32", "tflite-int8", "tflite-int8-mixed")}


def bench_run(model: Path, data: Path, kinds: dict[str, str], profile: str, fast: bool, out: Path) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "edgebench.benchmarks.cli", "run", str(model), "--profile", profile, "--threads",
           "1", "--batch", "1", "--variants", VARIANTS, "--data", str(data), "--out", str(out),
           *[a for k, v in kinds.items() for a in ("--output", f"{k}={v}")], *(["--fast"] if fast else [])]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if not (out / "results.json").is_file():
        sys.exit(f"bench run failed ({proc.returncode}): {proc.stderr.strip().splitlines()[-1:]}")
    return dict(json.loads((out / "results.json").read_text()))


def _median(rec: dict[str, Any] | None) -> float | None:
    lat = rec.get("latency_ms") if rec and rec.get("status") == "ok" else None
    return float(lat["median"]) if lat and lat.get("median") else None


def _acc(rec: dict[str, Any] | None) -> str:
    if not rec:
        return "-"
    budget = rec.get("accuracy_budget") or {}
    if budget.get("ok"):
        return "within budget"
    return "over: " + "; ".join(budget.get("violations") or ["unchecked"])


def _ms(v: float | None) -> str:
    return f"{v:.4f} ms" if v is not None else "-"


def summarize(name: str, doc: dict[str, Any], runtime: str) -> tuple[list[str], bool]:
    """Lines for one stand-in on one runtime (its first runtime setting) and whether the mixed variant won there."""
    fp32_name, int8_prefix, mixed_name = RUNTIMES[runtime]
    recs = [r for r in doc["results"] if r["runtime"] == runtime and r["threads"] == 1]
    label = recs[0].get("settings_label") if recs else None
    by = {r["variant"]: r for r in recs if r.get("settings_label") == label}
    fp32, mixed = by.get(fp32_name), by.get(mixed_name)
    int8 = sorted((r for v, r in by.items() if v.startswith(int8_prefix) and r is not mixed),
                  key=lambda r: _median(r) or float("inf"))
    search = (doc.get("mixed_search") or {}).get(runtime) or {}
    lines = [f"{name} / {runtime}{f' [{label}]' if label else ''}:",
             f"  fp32       {_ms(_median(fp32))}",
             *[f"  full int8  {_ms(_median(r))}  {r['variant']}: {_acc(r)}" for r in int8[:2]],
             f"  mixed      {_ms(_median(mixed))}  {_acc(mixed)}" if mixed else "  mixed      not made",
             f"  in float   {', '.join(search.get('layers_in_float') or []) or '-'} "
             f"(of {search.get('ranked_layers', '?')} ranked layers)",
             f"  search     {search.get('seconds', 0):.1f} s, {len(search.get('steps') or [])} step(s): "
             + ", ".join(f"k={s['size']} {'ok' if s['within_budget'] else 'over'} {_ms(s['latency_ms'])}"
                         for s in search.get("steps") or [])]
    won = bool(mixed and (mixed.get("accuracy_budget") or {}).get("ok") and _median(mixed) and _median(fp32)
               and _median(mixed) < _median(fp32))  # type: ignore[operator]
    if not won:
        lines.append("  => the mixed variant is not both within the budget and faster than fp32 here"
                     + (": it kept too many layers in float to beat fp32" if mixed else
                        ": " + next((n for n in doc["notes"] if "mixed" in n and runtime_word(runtime) in n),
                                    "no search ran")))
    return lines, won


def runtime_word(runtime: str) -> str:
    return "onnx" if runtime == "onnxruntime" else "tflite"


def main() -> int:
    from edgebench.benchmarks.selfcheck.mixed_standins import STANDINS

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--profile", default="x86_64")
    p.add_argument("--fast", action="store_true")
    p.add_argument("--only", help="comma-separated stand-ins (default: all)")
    args = p.parse_args()
    names = args.only.split(",") if args.only else list(STANDINS)
    ok = True
    with tempfile.TemporaryDirectory(prefix="edgebench-mixed-") as tmp:
        for name in names:
            model, data, kinds = STANDINS[name](Path(tmp))
            doc = bench_run(model, data, kinds, args.profile, args.fast, Path(tmp) / f"run-{name}")
            wins = []
            for runtime in RUNTIMES:
                lines, won = summarize(name, doc, runtime)
                print("\n".join(lines), flush=True)
                wins.append(won)
            ok = ok and any(wins)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
