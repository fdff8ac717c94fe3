"""Run inside an isolated environment (any Python, numpy + onnxruntime only): load a model, run it on given inputs.

Usage: python loadtest_child.py MODEL INPUTS.npz OUTPUTS.npz. Prints JSON lines: {"stage": "loaded"} once the
session exists (so a process that dies while running is known to have loaded the model), then
{"ok", "stage", "ort_version", "error"}; stage is "load" or "run", where it stopped.
"""
import json
import sys


def _reason(exc):
    text = " ".join(str(exc).split())
    # the C++ source location and signature in front say nothing to a user: keep the reason
    for key in ("Unsupported model IR", "ONNX Runtime only", "Could not find an implementation", "Opset ",
                "Non-zero status code"):
        if key in text:
            return text[text.index(key):][:300]
    return text[:300]


def main():
    import numpy as np
    import onnxruntime as ort

    model, inputs, outputs = sys.argv[1:4]
    result = {"ort_version": ort.__version__, "ok": False, "error": None, "stage": "load"}
    try:
        sess = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
        print(json.dumps({"stage": "loaded"}), flush=True)
        result["stage"] = "run"
        with np.load(inputs, allow_pickle=False) as z:
            feed = {i.name: z[i.name] for i in sess.get_inputs()}
        names = [o.name for o in sess.get_outputs()]
        values = sess.run(names, feed)
        np.savez(outputs, **{f"out{i}": v for i, v in enumerate(values)})
        result["ok"] = True
    except Exception as exc:  # the message is what a .NET user of this runtime would see
        result["error"] = _reason(exc)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
