"""What a failing row can do about it, and the one fix the suite performs itself: a lower opset and IR version.

onnx.version_converter does not lower ir_version and some of its adapters are missing ("No Adapter From Version
$16 for Identity"): the converted file is checked again, and re-exporting from the source with tf2onnx --opset is
named as the alternative.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from edgebench.results.errors import one_line


def ir_for_opset(opset: int) -> int:
    """The lowest IR version of the onnx release that introduced this ai.onnx opset."""
    import onnx

    rows = [r for r in onnx.helper.VERSION_TABLE if r[2] >= opset]
    return min(r[1] for r in rows) if rows else max(r[1] for r in onnx.helper.VERSION_TABLE)


def suggest(row: dict[str, Any], passing_newer: list[dict[str, Any]], variant: str | None) -> list[str]:
    """One line per thing the user can do for a failing row, the suite's own fix first."""
    out: list[str] = []
    kinds = {p["kind"] for p in row["problems"]}
    reg = row.get("limits", {})
    if kinds & {"ir", "opset"}:
        opset, ir = reg.get("max_opset"), reg.get("max_ir_version")
        out.append(f"lower to ai.onnx opset {opset} / IR {ir}: bench card MODEL --fix {row['key']} "
                   f"(onnx.version_converter), or re-export with python -m tf2onnx.convert ... --opset {opset}")
    if "mlnet-type" in kinds:
        out.append("a float32 variant (onnx-fp32): ML.NET columns cannot hold float16/bfloat16; or call "
                   "InferenceSession directly (see the C# section)")
    if "unused-opset" in kinds and not kinds & {"ir", "opset"}:
        out.append(f"drop the opset imports no node uses: bench card MODEL --fix {row['key']}")
    if kinds & {"kernel", "type", "domain", "portable"}:
        domains = {p.get("domain") for p in row["problems"]}
        if domains & {"com.microsoft", "com.microsoft.nchwc"} or (variant and "ort" in variant.split("-")):
            out.append("use a variant without onnxruntime-specific ops (e.g. onnx-fp32): an ORT-offline-optimized "
                       "or contrib-op graph is tied to the runtime that wrote it")
        if passing_newer:
            newer = passing_newer[0]
            out.append(f"reference a newer runtime: <PackageReference Include=\"Microsoft.ML.OnnxRuntime\" "
                       f"Version=\"{newer['ort']}\" /> (the ML.NET pin is a minimum; {newer['label']} passes)")
        elif not kinds & {"domain", "portable"}:
            ops = sorted({p["op"] for p in row["problems"] if p.get("op")})
            out.append(f"re-export so that {', '.join(ops)} is avoided (a lower --opset, or a model change)")
    return out


def lower_opset(src: Path, dest: Path, opset: int, max_ir: int) -> tuple[Path | None, str]:
    """Convert src to `opset` and stamp the lowest IR version that carries it (never above max_ir)."""
    import onnx
    from onnx import version_converter

    model = onnx.load(str(src))
    current = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), opset)
    try:
        converted = version_converter.convert_version(model, opset) if current > opset else model
    except Exception as exc:
        return None, (f"onnx.version_converter could not lower opset {current} to {opset} "
                      f"({one_line(exc, 160)}): re-export from the source with tf2onnx --opset {opset}")
    converted.ir_version = min(max_ir, max(ir_for_opset(opset), 3))
    # an opset import no node uses still makes an older runtime refuse the model
    used = {n.domain or "" for n in converted.graph.node}
    keep = [o for o in converted.opset_import if o.domain in ("", "ai.onnx") or o.domain in used]
    del converted.opset_import[:]
    converted.opset_import.extend(keep)
    try:
        onnx.checker.check_model(converted)
    except Exception as exc:
        return None, f"the converted model is invalid ({one_line(exc, 160)}): re-export with tf2onnx --opset {opset}"
    onnx.save(converted, str(dest))
    return dest, f"opset {current} -> {opset}, IR {model.ir_version} -> {converted.ir_version}"


def rename_io(src: Path, dest: Path, renames: dict[str, str]) -> Path:
    """A copy whose graph inputs/outputs carry the clean names (no ':0', no 'serving_default_'), as tf2onnx's
    --rename-inputs/--rename-outputs would export them; every node and value_info that used a name follows."""
    import onnx

    model = onnx.load(str(src))
    g = model.graph

    def sub(name: str) -> str:
        return renames.get(name, name)

    for vi in [*g.input, *g.output, *g.value_info]:
        vi.name = sub(vi.name)
    for node in g.node:
        node.input[:] = [sub(n) for n in node.input]
        node.output[:] = [sub(n) for n in node.output]
    onnx.checker.check_model(model)
    onnx.save(model, str(dest))
    return dest
