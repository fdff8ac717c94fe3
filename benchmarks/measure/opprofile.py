"""ONNX Runtime's per-node profile of one model, summarised by operator type (run as a child process).

`python -m edgebench.benchmarks.measure.opprofile --model M --inputs IN.npz --out OUT.json` runs warm-up inferences, then profiled
ones, and writes the operators ranked by their share of node time. The raw trace (chrome://tracing format) is kept
beside it. Profiling slows inference, so these runs are never the timed ones.
"""
from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

WARMUPS = 5


def summarize_trace(events: list[dict[str, Any]], runs: int) -> dict[str, Any]:
    """Aggregate kernel-time events by operator type: total, per inference, share, and call count."""
    by_op: dict[str, dict[str, float]] = defaultdict(lambda: {"total_us": 0.0, "calls": 0})
    for ev in events:
        if ev.get("cat") != "Node" or not str(ev.get("name", "")).endswith("_kernel_time"):
            continue
        op = ev.get("args", {}).get("op_name", "?")
        by_op[op]["total_us"] += float(ev.get("dur", 0))
        by_op[op]["calls"] += 1
    total = sum(v["total_us"] for v in by_op.values()) or 1.0
    ops: list[dict[str, Any]] = [{"op_type": op, "share": v["total_us"] / total, "ms_per_inference": v["total_us"] / runs / 1e3,
            "nodes": int(v["calls"] // runs)} for op, v in by_op.items()]
    ops.sort(key=lambda o: o["share"], reverse=True)
    return {"runs": runs, "node_time_ms_per_inference": total / runs / 1e3, "operators": ops}


def main() -> None:
    import onnxruntime as ort

    from edgebench.benchmarks.isolation.childguard import report_result
    from edgebench.benchmarks.isolation.npzio import read_arrays
    from edgebench.benchmarks.measure.runtimes.ort import session_options

    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--inputs", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--settings", default="{}")
    ap.add_argument("--runs", type=int, default=50)
    args = ap.parse_args()

    inputs = read_arrays(args.inputs)
    tmp = Path(tempfile.mkdtemp(prefix="edgebench-prof-"))
    so = session_options(args.threads, json.loads(args.settings))
    so.enable_profiling = True
    so.profile_file_prefix = str(tmp / "ort")
    sess = ort.InferenceSession(args.model, sess_options=so, providers=["CPUExecutionProvider"])
    feed = {i.name: x for i, x in zip(sess.get_inputs(), inputs)}
    for _ in range(WARMUPS + args.runs):
        sess.run(None, feed)
    trace_path = Path(sess.end_profiling())
    events = json.loads(trace_path.read_text())
    # Session creation and warm-up runs are in the trace too: keep only the node events after the warm-ups.
    summary = summarize_trace(_after_warmups(events, WARMUPS), args.runs)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(trace_path), out.with_suffix(".trace.json"))
    shutil.rmtree(tmp, ignore_errors=True)
    summary["trace"] = out.with_suffix(".trace.json").name
    out.write_text(json.dumps(summary, indent=1))
    report_result({"file": out.name})


def _after_warmups(events: list[dict[str, Any]], warmups: int) -> list[dict[str, Any]]:
    """Node events after the `warmups`-th model_run event ends."""
    runs = sorted((ev for ev in events if ev.get("name") == "model_run"), key=lambda e: e.get("ts", 0))
    if len(runs) <= warmups:
        return events
    cutoff = runs[warmups - 1]["ts"] + runs[warmups - 1].get("dur", 0)
    return [ev for ev in events if ev.get("ts", 0) >= cutoff]


if __name__ == "__main__":
    main()
