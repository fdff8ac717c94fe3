"""Report inputs made from real runs: a copy with hostile strings, and a copy with the fields other work adds."""
from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

# Closes a script, opens one, and tries an attribute handler: any of them running sets window.__xss.
PAYLOAD = ('</script><script>window.__xss=(window.__xss||0)+1</script>'
           '<img src=x onerror="window.__xss=(window.__xss||0)+1">"\'&amp;[/]')


def copy_run(src: Path, dst: Path) -> Path:
    dst.mkdir(parents=True)
    for name in ("results.json", "pyperf.json"):
        if (src / name).exists():
            shutil.copy(src / name, dst / name)
    return dst


def write_doc(run_dir: Path, doc: dict) -> None:
    (run_dir / "results.json").write_text(json.dumps(doc), encoding="utf-8")


def hostile_run(src: Path, dst: Path) -> Path:
    """The run at `src` with the payload in every user-controlled string the report shows."""
    run = copy_run(src, dst)
    doc = json.loads((run / "results.json").read_text())
    doc["model"]["name"] = "model" + PAYLOAD
    doc["model"]["path"] = "/data/" + PAYLOAD + ".keras"
    doc["model"]["description"] = PAYLOAD
    doc["host"]["hostname"] = "host" + PAYLOAD
    doc["host"]["cpu_model"] = "cpu" + PAYLOAD
    doc["profile"]["name"] = "profile" + PAYLOAD
    doc["warnings"].append("warning" + PAYLOAD)
    doc["notes"].append("note" + PAYLOAD)
    for rec in doc["results"]:
        rec["variant"] = rec["variant"] + PAYLOAD  # "benchmark" is kept, so the raw samples still match
        rec["warnings"] = ["unstable" + PAYLOAD]
    failed = copy.deepcopy(doc["results"][0])
    failed.update(status="failed", error="error" + PAYLOAD, latency_ms=None, benchmark="x/y/z/t9", threads=9)
    doc["results"].append(failed)
    write_doc(run, doc)
    return run


def _scaled(latency: dict, factor: float) -> dict:
    """Latency figures times `factor`: numbers, and the [low, high] confidence intervals."""
    return {k: [x * factor for x in v] if isinstance(v, list) else v if k == "n" else v * factor
            for k, v in latency.items()}


def evolved_run(src: Path, dst: Path) -> Path:
    """The run at `src` plus records of the kinds other work adds: new variants (one fast but over the accuracy
    budget), an instability warning, a failure with null figures, and a record that lacks every optional field."""
    run = copy_run(src, dst)
    doc = json.loads((run / "results.json").read_text())
    base = next(r for r in doc["results"] if r["runtime"] == "onnxruntime")
    fast_bad = copy.deepcopy(base)
    fast_bad.update(variant="onnx-static-int8", benchmark="tiny/onnxruntime/onnx-static-int8/t1",
                    accuracy_budget={"ok": False, "violations": ["top-1 agreement 0.700 < 0.99"]},
                    accuracy=dict(base["accuracy"], top1_agreement=0.7))
    fast_bad["latency_ms"] = _scaled(base["latency_ms"], 1 / 100)
    unstable = copy.deepcopy(base)
    unstable.update(variant="onnx-future-thing", benchmark="tiny/onnxruntime/onnx-future-thing/t1",
                    warnings=["unstable: stdev is 42% of the mean"])
    unstable["latency_ms"] = _scaled(base["latency_ms"], 2)
    failed = {"runtime": "litert", "variant": "tflite-int8", "threads": 1, "status": "failed",
              "error": "conversion failed: no calibration data", "latency_ms": None, "cold_start_ms": None,
              "peak_rss_mb": None, "model_bytes": None, "accuracy": None, "artifact": None}
    minimal = {"runtime": "onnxruntime", "variant": "ort-format", "threads": 1, "status": "ok",
               "latency_ms": {"median": 1.0}, "cold_start_ms": None, "peak_rss_mb": None, "model_bytes": None,
               "accuracy": {}, "artifact": None}
    doc["results"] += [fast_bad, unstable, failed, minimal]
    write_doc(run, doc)
    return run


def noisy_run(src: Path, dst: Path) -> Path:
    """The run at `src` as a 1.1 run on a noisy machine: 95% CIs of the median and p99 that overlap (a tie), and
    instability warnings on every record, with each record's own numbers."""
    run = copy_run(src, dst)
    doc = json.loads((run / "results.json").read_text())
    for i, rec in enumerate(doc["results"]):
        lat = rec["latency_ms"]
        lat["median_ci"] = [lat["median"] * 0.5, lat["median"] * 5]  # wide enough to overlap whatever was measured
        lat["p99_ci"] = [lat["p99"] * 0.8, lat["p99"] * 1.5]
        rec["measurement"] = {"method": "full", "processes": 3, "samples": lat["n"], "median_ci_pct": 40.0}
        rec["warnings"] = [f"stdev is {13 + i}% of the mean", f"worker processes disagree by {15 + i}%"]
    doc["warnings"].append("machine busy at start: 90% of 2 cores in use by other processes (load average 2.0)")
    write_doc(run, doc)
    return run
