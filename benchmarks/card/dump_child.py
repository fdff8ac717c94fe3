"""Run inside an isolated environment that holds one exact onnxruntime: dump its CPU kernel registry and limits.

Standalone on purpose (standard library, numpy and onnxruntime only): it runs under whatever Python that onnxruntime
release has a wheel for, where edgebench is not installed. Usage: python dump_child.py PROBE_DIR > registry.json.
PROBE_DIR holds tiny Identity models made by the parent with onnx: ir<N>.onnx and opset<N>.onnx.
"""
import json
import re
import sys
from pathlib import Path

INT_MAX = 2147483647


def _short(type_str):
    # "tensor(float)" -> "float", "seq(tensor(int64))" -> "seq(int64)": the registry stays small and readable
    return re.sub(r"tensor\((\w+)\)", r"\1", type_str)


def kernels():
    from onnxruntime.capi import _pybind_state as C

    out: dict = {}
    if not hasattr(C, "get_all_opkernel_def"):  # not exposed before 1.11: the parent fills it from a later release
        return None
    for k in C.get_all_opkernel_def():
        if k.provider != "CPUExecutionProvider":
            continue
        since, until = k.version_range
        cons = {name: sorted({_short(t) for t in types}) for name, types in sorted(k.type_constraints.items())}
        out.setdefault(k.domain or "ai.onnx", {}).setdefault(k.op_name, []).append(
            [since, None if until >= INT_MAX else until, cons])
    for ops in out.values():
        for rows in ops.values():
            rows.sort(key=lambda r: (r[0], json.dumps(r[2])))
    return out


def schema_opsets(kernel_map):
    from onnxruntime.capi import _pybind_state as C

    best = {}
    if not hasattr(C, "get_all_operator_schema"):  # before 1.11: the newest kernel per domain stands in
        for domain, ops in (kernel_map or {}).items():
            best[domain] = max(row[0] for rows in ops.values() for row in rows)
        return best
    for s in C.get_all_operator_schema():
        d = s.domain or "ai.onnx"
        best[d] = max(best.get(d, 0), s.since_version)
    return best


def _loads(path):
    import onnxruntime as ort

    try:
        ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return True, ""
    except Exception as exc:  # the message is what a user of this version would see
        text = " ".join(str(exc).split())
        # the C++ source location and signature in front say nothing to a user: keep the reason
        for key in ("Unsupported model IR", "ONNX Runtime only", "Opset ", "opset "):
            if key in text:
                return False, text[text.index(key):][:240]
        return False, text[-240:]


def probe(probe_dir, prefix):
    """The highest N whose probe model loads, and the error of the first that does not."""
    files = sorted(Path(probe_dir).glob(prefix + "*.onnx"), key=lambda p: int(p.stem[len(prefix):]))
    best, first_error = None, None
    for f in files:
        ok, err = _loads(f)
        if ok:
            best = int(f.stem[len(prefix):])
        elif first_error is None and best is not None:
            first_error = err
    return best, first_error


def main():
    import platform

    import onnxruntime as ort

    max_ir, ir_error = probe(sys.argv[1], "ir")
    max_opset, opset_error = probe(sys.argv[1], "opset")
    kernel_map = kernels()
    doc = {"ort_version": ort.__version__, "python": platform.python_version(), "max_ir_version": max_ir,
           "max_ir_error": ir_error, "max_opset": dict(schema_opsets(kernel_map), **{"ai.onnx": max_opset}),
           "max_opset_error": opset_error, "kernels": kernel_map}
    json.dump(doc, sys.stdout, separators=(",", ":"), sort_keys=True)


if __name__ == "__main__":
    main()
