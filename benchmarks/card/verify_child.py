"""Run inside an old onnxruntime's environment (numpy + onnxruntime only): which single-node probe models load.

Usage: python verify_child.py PROBE_DIR > results.json. Each probe is <n>.onnx; the answer per probe is "ok",
"missing" (no kernel: "Could not find an implementation") or "unknown" (refused for another reason, e.g. the probe's
made-up attribute values), so only a kernel lookup failure removes anything from the borrowed registry.
"""
import json
import sys
from pathlib import Path


def main():
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL  # look up the probe's own node
    so.log_severity_level = 4
    out = {}
    for f in sorted(Path(sys.argv[1]).glob("*.onnx")):
        try:
            ort.InferenceSession(str(f), so, providers=["CPUExecutionProvider"])
            out[f.stem] = "ok"
        except Exception as exc:
            out[f.stem] = "missing" if "Could not find an implementation" in str(exc) else "unknown"
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
