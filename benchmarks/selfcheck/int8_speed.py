"""Self-benchmark: how fast is the best int8 variant of a profile against fp32, per runtime, at 1 thread?

Runs `bench run` once per model with the profile's fp32 and quantized variants (so every ratio comes from one run,
measured back to back in fresh pyperf workers) and prints, per runtime, fp32, the fastest int8 variant, its ratio,
and the fastest one within the accuracy budget. Run on demand:

    python benchmarks/selfcheck/int8_speed.py [--profile x86_64] [--target 0.5] [--fast] [--full-size]

--full-size also measures a MobileNetV2 at the size FIELD-NOTES measured (224x224x3, alpha 1.0, random weights,
calibrated on upscaled digits; speed only). Exit code 0 when every measured model meets the target, else 1.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from edgebench.results.selection import BASELINES, within_budget

VARIANTS = "tflite-fp32,tflite-dynamic-int8,tflite-int8,onnx-fp32,onnx-dynamic-int8,onnx-static-int8"
INT8_PASSES = {"tflite-dynamic-range", "tflite-full-int8", "ort-dynamic-quant", "ort-static-quant"}


def full_size_model(folder: Path) -> tuple[Path, Path]:
    """MobileNetV2 224x224x3 alpha 1.0 with seeded random weights, and digits upscaled to 224 as calibration data."""
    model, data = folder / "mobilenetv2-224.keras", folder / "digits-224.npz"
    if model.is_file() and data.is_file():
        return model, data
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import numpy as np

    from edgebench.benchmarks.variants.default_model import digits

    keras.utils.set_random_seed(0)
    keras.applications.MobileNetV2(input_shape=(224, 224, 3), alpha=1.0, weights=None, classes=10,
                                   classifier_activation=None).save(model)
    x, _ = digits("train", limit=160, native=True)  # 8x8, nearest-neighbour up to 224 (28x)
    np.savez(data, x=np.repeat(np.repeat(x, 28, axis=1), 28, axis=2).astype(np.float32))
    return model, data


def bench_run(model: Path | None, data: Path | None, profile: str, fast: bool, out: Path) -> tuple[dict[str, Any], float]:
    cmd = [sys.executable, "-m", "edgebench.benchmarks.cli", "run", *([str(model)] if model else []), "--profile", profile,
           "--threads", "1", "--variants", VARIANTS, "--out", str(out), *(["--data", str(data)] if data else []),
           *(["--fast"] if fast else [])]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if not (out / "results.json").is_file():
        sys.exit(f"bench run failed ({proc.returncode}): {proc.stderr.strip().splitlines()[-1:]}")
    return json.loads((out / "results.json").read_text()), wall


def summarize(doc: dict[str, Any], target: float, speed_only: bool = False) -> tuple[list[str], bool]:
    """One line per runtime configuration (ONNX Runtime may be measured with its memory arena on and off)."""
    lines, ok = [], True
    recs = [r for r in doc["results"] if r["status"] == "ok" and r["threads"] == 1]
    configs = sorted({(r["runtime"], r.get("settings_label") or "") for r in recs})
    for runtime, label in configs:
        mine = [r for r in recs if (r["runtime"], r.get("settings_label") or "") == (runtime, label)]
        name = runtime + (f" [{label}]" if label else "")
        base = next((r for r in mine if r["variant"] == BASELINES[runtime]), None)
        int8 = [r for r in mine if r["artifact"]["pass"] in INT8_PASSES]
        if base is None or not int8:
            lines.append(f"  {name:24s} not measured")
            ok = False
            continue
        fp32_ms = base["latency_ms"]["median"]
        best = min(int8, key=lambda r: r["latency_ms"]["median"])
        within = [r for r in int8 if within_budget(r) is True]
        ratio = best["latency_ms"]["median"] / fp32_ms
        ok &= ratio <= target
        acc = best["accuracy"]
        line = (f"  {name:24s} fp32 {fp32_ms:.3f} ms | fastest int8 {best['variant']} "
                f"{best['latency_ms']['median']:.3f} ms = {ratio:.2f}x fp32 "
                f"[{'meets' if ratio <= target else 'MISSES'} <= {target}x]")
        if speed_only:  # random weights give near-zero logits: agreement figures would mean nothing
            lines.append(line + " | accuracy not meaningful (random weights)")
            continue
        line += (f" | top-1 agree {acc.get('top1_agreement', float('nan')):.3f}, "
                 f"cosine {acc.get('cosine', float('nan')):.4f}")
        if within:
            w = min(within, key=lambda r: r["latency_ms"]["median"])
            line += f" | fastest within budget: {w['variant']} {w['latency_ms']['median'] / fp32_ms:.2f}x"
        else:
            line += " | none within the accuracy budget"
        lines.append(line)
    return lines, ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="x86_64")
    ap.add_argument("--target", type=float, default=0.5, help="int8 / fp32 median latency to meet (default 0.5)")
    ap.add_argument("--fast", action="store_true", help="bench run --fast (3 processes per benchmark)")
    ap.add_argument("--full-size", action="store_true", help="also the 224x224 alpha-1.0 MobileNetV2")
    ap.add_argument("--out", type=Path, help="keep the run directories here (default: a temporary folder)")
    args = ap.parse_args()

    root = args.out or Path(tempfile.mkdtemp(prefix="edgebench-int8-"))
    from edgebench.benchmarks.variants.default_model import ALPHA, INPUT_SIZE, NAME
    models: list[tuple[str, Path | None, Path | None]] = [
        (f"default model ({NAME}, {INPUT_SIZE}x{INPUT_SIZE}, alpha {ALPHA})", None, None)]
    if args.full_size:
        from edgebench.optimizers.artifacts import cache_root
        folder = cache_root() / "selfcheck"
        folder.mkdir(parents=True, exist_ok=True)
        m, d = full_size_model(folder)
        models.append(("MobileNetV2 224x224 alpha 1.0 (FIELD-NOTES size; random weights: speed only)", m, d))
    all_ok = True
    for i, (label, model, data) in enumerate(models):
        doc, wall = bench_run(model, data, args.profile, args.fast, root / f"run{i}")
        lines, ok = summarize(doc, args.target, speed_only=model is not None)
        all_ok &= ok
        print(f"{label}, profile {args.profile}, 1 thread, {doc['mode']} mode, bench run wall {wall:.1f} s")
        print("\n".join(lines))
    print(f"runs: {root}")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
