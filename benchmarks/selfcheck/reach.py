"""Self-check (not a timed test): do models as they are exported reach LiteRT? `bench run --fast --threads 1` over
every stand-in of edgebench.benchmarks.selfcheck.exported_models and a keras.applications CNN (random weights), then
one table: LiteRT fp32 built (or why not), its worst output against the source, int8 built on each runtime.

    python -m edgebench.benchmarks.selfcheck.reach [WORKDIR]
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

VARIANTS = "tflite-fp32,tflite-int8,onnx-fp32,onnx-dynamic-int8,onnx-static-int8-qdq-u8s8"


def _keras_cnn(path: Path) -> tuple[Path, list[str]]:
    """EfficientNetB0 (random weights, 64x64): its SE blocks once failed onnx-transformer-optimized."""
    import keras
    keras.applications.EfficientNetB0(weights=None, input_shape=(64, 64, 3), classes=10).save(path)
    return path, ["--variants", VARIANTS + ",onnx-transformer-optimized"]


def _row(name: str, proc: subprocess.CompletedProcess[str], out: Path) -> list[str]:
    try:
        doc = json.loads((out / "results.json").read_text())
    except (OSError, ValueError):
        return [name, f"no: run failed ({proc.stderr.strip().splitlines()[-1:] or ['?']})", "-", "-", "-"]
    recs = {r["variant"]: r for r in doc["results"] if r.get("settings_label") in (None, "arena-on", "default")}
    recs.update({r["variant"]: r for r in doc["results"] if r["variant"] not in recs})

    def built(v: str) -> str:
        r = recs.get(v)
        return "-" if r is None else "yes" if r["status"] == "ok" else f"no: {r['error']}"
    fp32 = recs.get("tflite-fp32")
    acc: dict[str, Any] = (fp32 or {}).get("accuracy") or {}
    figures = (f"cosine {acc['cosine']:.6f}, max abs {acc['max_abs_error']:.2g}" if "cosine" in acc else "-")
    ort = f"dynamic {built('onnx-dynamic-int8')}, static {built('onnx-static-int8-qdq-u8s8')}"
    skipped = [n for n in doc.get("notes", []) if "skipped" in str(n)]
    return [name, built("tflite-fp32"), figures, built("tflite-int8"), ort + (f"; {skipped[0]}" if skipped else "")]


def main(argv: list[str]) -> int:
    from edgebench.benchmarks.selfcheck.exported_models import STAND_INS
    work = Path(argv[0]) if argv else Path(tempfile.mkdtemp(prefix="edgebench-reach-"))
    work.mkdir(parents=True, exist_ok=True)
    makers = {**{k: (lambda p, f=f: f(p)) for k, f in STAND_INS.items()}}
    rows = []
    for name, make in [*makers.items(), ("keras-efficientnetb0", _keras_cnn)]:
        path, flags = make(work / (name + (".keras" if name.startswith("keras") else ".onnx")))
        if "--variants" not in flags:
            flags = [*flags, "--variants", VARIANTS]
        out = work / f"run-{name}"
        proc = subprocess.run(["bench", "run", str(path), *flags, "--fast", "--threads", "1", "--quiet", "--out",
                               str(out)], capture_output=True, text=True)
        rows.append(_row(name, proc, out))
        print(" | ".join(rows[-1]), flush=True, file=sys.stderr)
    print("model | LiteRT fp32 built | fp32 worst output vs source | LiteRT int8 built | ORT int8 built")
    for r in rows:
        print(" | ".join(r))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
