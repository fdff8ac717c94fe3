"""The pitfalls that apply to this model, each keyed by the exception text a .NET user would search for."""
from __future__ import annotations

from typing import Any


def _dims_text(shape: list[Any]) -> str:
    return ",".join(str(d) if isinstance(d, int) else "?" for d in shape)


def _size(shape: list[Any]) -> int:
    n = 1
    for d in shape:
        n *= d if isinstance(d, int) and d > 0 else 1
    return n


def pitfalls(card: dict[str, Any]) -> list[dict[str, str]]:
    """[{"error": exact text, "cause": ..., "fix": ...}], the always-relevant one first."""
    io = card["io"]
    out = [{"error": "Unable to find an entry point named 'OrtGetApiBase' in DLL 'onnxruntime'",
            "cause": "Microsoft.ML.OnnxTransformer depends only on Microsoft.ML.OnnxRuntime.Managed: the native "
                     "runtime is missing",
            "fix": "add <PackageReference Include=\"Microsoft.ML.OnnxRuntime\" ... /> (see the C# section)"}]
    for t in io["inputs"]:
        if t["needs_shape_dictionary"]:
            out.append({"error": "Only 1 unknown dimension is allowed",
                        "cause": f"input '{t['name']}' has shape [{_dims_text(t['shape'])}]",
                        "fix": "pass shapeDictionary to ApplyOnnxModel with every dimension fixed"})
        if t["layout"]:
            n = _size(t["ml_shape"])
            out.append({"error": f"Input shape mismatch: Input '{t['name']}' has shape {_dims_text(t['ml_shape'])}, "
                                 f"but input data is of length ...",
                        "cause": f"the input vector must hold exactly {n} values ({t['layout']} layout)",
                        "fix": f"[VectorType({', '.join(str(d) for d in t['ml_shape'])})] and "
                               f"{'interleavePixelColors: true' if t['layout'] == 'NHWC' else 'interleavePixelColors: false'}"
                               " in ExtractPixels"})
            out.append({"error": "Length of memory (...) must match product of dimensions (...)",
                        "cause": "image size or channel layout differ from the model's",
                        "fix": f"resize to the model's size; the model is {t['layout']}"})
    for t in io["inputs"] + io["outputs"]:
        if t["clr_type"] is None:
            out.append({"error": f"Unsupported ONNX scalar type: {t['dtype'].capitalize()}",
                        "cause": f"'{t['name']}' is {t['dtype']}, which ML.NET's OnnxTransformer cannot map",
                        "fix": "use a float32 variant (onnx-fp32) or raw InferenceSession"})
    for t in io["outputs"]:
        if len(t["shape"]) >= 2 and _size(t["ml_shape"]) == 1:
            out.append({"error": f"Schema mismatch for score column '{t['name']}': expected Single, got "
                                 f"Vector<Single, {', '.join('1' for _ in t['shape'])}>",
                        "cause": "the output is a tensor, not a scalar",
                        "fix": "declare it as float[] with [VectorType] and read element 0"})
    if any(t["name"].endswith(":0") for t in io["inputs"] + io["outputs"]):
        out.append({"error": "a tensor name ending in ':0' (not an exception: a name that must match exactly)",
                    "cause": "TensorFlow tensor names keep the ':0' suffix",
                    "fix": "use the exact name in [ColumnName], or re-export with tf2onnx --rename-inputs / "
                           "--rename-outputs (see I/O contract)"})
    seen: set[str] = set()
    for row in card["rows"]:
        for p in row.get("problems", []):
            if p["kind"] == "ir" and "ir" not in seen:
                seen.add("ir")
                out.append({"error": p["text"], "cause": f"{row['label']} pins onnxruntime {row['ort']}",
                            "fix": (row.get("fixes") or ["lower the IR version"])[0]})
            elif p["kind"] in ("kernel", "type") and "kernel" not in seen:
                seen.add("kernel")
                out.append({"error": f"Could not find an implementation for {p.get('op')}(...) node",
                            "cause": f"{row['label']}: {p['text']}", "fix": (row.get("fixes") or ["-"])[0]})
            elif p["kind"] == "domain" and "domain" not in seen:
                seen.add("domain")
                out.append({"error": "a custom-op domain the runtime does not know", "cause": p["text"],
                            "fix": "register the custom-op library with the session (ML.NET >= 4.0.1)"})
    return out
