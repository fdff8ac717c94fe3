"""ONNX graph passes: onnxsim simplification, ONNX Runtime offline optimization, ORT format, transformer fusions.

Each is file -> file through the library that owns the transformation, cached by input hash + settings.
"""
from __future__ import annotations

import contextlib
import io
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from edgebench.optimizers.artifacts import Artifact, cached
from edgebench.optimizers.convert import ConversionError, tool_versions
from edgebench.optimizers.errors import PassSkipped
from edgebench.results.errors import one_line

if TYPE_CHECKING:
    import onnxruntime as ort

ORT_LEVELS = {"disable": "ORT_DISABLE_ALL", "basic": "ORT_ENABLE_BASIC", "extended": "ORT_ENABLE_EXTENDED",
              "layout": "ORT_ENABLE_LAYOUT", "all": "ORT_ENABLE_ALL"}
ORT_TARGETS = ("amd64", "arm")


def _node_count(path: str | Path) -> int:
    import onnx
    return len(onnx.load(str(path), load_external_data=False).graph.node)


def simplify(model: Artifact) -> Artifact:
    """onnxsim: constant folding and shape-driven cleanup, checked by onnxsim against the input on random data."""
    def run(out: Path) -> list[str]:
        import onnx
        import onnxsim

        try:
            simplified, ok = onnxsim.simplify(onnx.load(model.path))
        except Exception as exc:
            raise ConversionError(f"onnxsim failed: {one_line(exc)}") from None
        if not ok:
            raise ConversionError("onnxsim could not check the simplified model against the original")
        onnx.save(simplified, str(out))
        before, after = _node_count(model.path), len(simplified.graph.node)
        return [f"onnxsim changed nothing ({before} nodes)" if before == after
                else f"onnxsim: {before} -> {after} nodes"]

    return cached(model.sha256, "onnxsim", {"tool": tool_versions("onnxsim", "onnx")}, "model.onnx", run)


def _level(name: str) -> ort.GraphOptimizationLevel:
    import onnxruntime as ort
    if name not in ORT_LEVELS:
        raise ValueError(f"unknown graph optimization level {name!r}; one of {', '.join(ORT_LEVELS)}")
    return getattr(ort.GraphOptimizationLevel, ORT_LEVELS[name])


def ort_optimize(model: Artifact, level: str = "all") -> Artifact:
    """ONNX Runtime applies its graph optimizations once and saves the result, so sessions start faster."""
    def run(out: Path) -> list[str]:
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.graph_optimization_level = _level(level)
        so.optimized_model_filepath = str(out)
        so.log_severity_level = 3  # ORT warns about hardware-specific layouts at "all": the note below says it once
        try:
            ort.InferenceSession(model.path, so, providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise ConversionError(f"ONNX Runtime optimization failed: {one_line(exc)}") from None
        notes = [f"ORT graph optimization '{level}': {_node_count(model.path)} -> {_node_count(out)} nodes"]
        if level in ("layout", "all"):
            notes.append("saved with layout optimizations: run it only with the same ONNX Runtime version on the "
                         "same CPU kind")
        return notes

    settings = {"level": level, "tool": tool_versions("onnxruntime")}
    return cached(model.sha256, "ort-optimize", settings, "model.onnx", run)


def to_ort_format(model: Artifact, target_platform: str = "arm") -> Artifact:
    """ORT format for mobile / minimal builds, made by ONNX Runtime's own converter (it writes the operator
    config a minimal build needs beside the .ort file)."""
    if target_platform not in ORT_TARGETS:
        raise ValueError(f"ort_format target_platform must be one of {', '.join(ORT_TARGETS)}")
    def run(out: Path) -> list[str]:
        from onnxruntime.tools.convert_onnx_models_to_ort import OptimizationStyle, convert_onnx_models_to_ort

        src = out.with_name("model.onnx")  # the converter names its output after its input
        os.symlink(model.path, src)
        log = io.StringIO()
        chatty = logging.getLogger("ort_format_model.utils")
        old_level = chatty.level
        chatty.setLevel(logging.WARNING)
        try:
            with contextlib.redirect_stdout(log):  # the converter narrates on stdout; keep ours for the table
                convert_onnx_models_to_ort(src, output_dir=out.parent, optimization_styles=[OptimizationStyle.Fixed],
                                           target_platform=target_platform)
        except Exception as exc:
            raise ConversionError(f"ORT format conversion failed: {one_line(exc)}") from None
        finally:
            src.unlink()
            chatty.setLevel(old_level)
        if not out.is_file():
            raise ConversionError(f"ORT format conversion wrote no .ort file: {one_line(Exception(log.getvalue()))}")
        return [f"ORT format for target_platform={target_platform}; "
                "operator config for a minimal build: required_operators.config beside the .ort file"]

    settings = {"target_platform": target_platform, "optimization_style": "fixed",
                "tool": tool_versions("onnxruntime")}
    return cached(model.sha256, "ort-format", settings, "model.ort", run)


def transformer_patterns(path: str | Path) -> dict[str, int]:
    """Counts of the patterns ORT's transformer optimizer fuses: attention (Softmax fed by MatMul, possibly through
    scale / mask ops) and layer norm (LayerNormalization, or ReduceMean -> Sub of the same input)."""
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    producer = {out: n for n in graph.node for out in n.output}
    found = {"attention": 0, "layer_norm": 0}
    for node in graph.node:
        if node.op_type == "Softmax":
            n, hops = producer.get(node.input[0]), 0
            while n is not None and n.op_type in ("Add", "Mul", "Div", "Where") and hops < 3:
                n, hops = producer.get(n.input[0]), hops + 1
            found["attention"] += n is not None and n.op_type == "MatMul"
        elif node.op_type in ("LayerNormalization", "SimplifiedLayerNormalization"):
            found["layer_norm"] += 1
        elif node.op_type == "Sub":
            mean = producer.get(node.input[1]) if len(node.input) > 1 else None
            found["layer_norm"] += (mean is not None and mean.op_type == "ReduceMean"
                                    and mean.input[0] == node.input[0])
    return found


def transformer_fusions(model: Artifact, model_type: str = "bert", num_heads: int = 0, hidden_size: int = 0) -> Artifact:
    """onnxruntime.transformers.optimizer fusions (attention, layer norm, GELU, ...), only when the graph has them."""
    patterns = transformer_patterns(model.path)
    if not any(patterns.values()):
        raise PassSkipped("no attention or layer-norm pattern in the graph: transformer fusion skipped")

    def run(out: Path) -> list[str]:
        from onnxruntime.transformers.optimizer import optimize_model

        quiet = logging.getLogger("onnxruntime.transformers")
        old = quiet.level
        quiet.setLevel(logging.ERROR)
        try:
            optimized = optimize_model(model.path, model_type=model_type, num_heads=num_heads,
                                       hidden_size=hidden_size, opt_level=0, use_gpu=False)
            fused = {k: v for k, v in optimized.get_fused_operator_statistics().items() if v}
        except Exception as exc:
            if not patterns["attention"]:  # a CNN whose SE blocks look like layer norm (EfficientNet): not its graph
                raise PassSkipped(f"no attention in the graph and ORT's transformer optimizer cannot take it "
                                  f"({one_line(exc, 120)}): skipped") from None
            raise ConversionError(f"transformer fusion failed: {one_line(exc)}") from None
        finally:
            quiet.setLevel(old)
        optimized.save_model_to_file(str(out))
        found = ", ".join(f"{k} {v}" for k, v in patterns.items() if v)
        return [f"fused: {', '.join(f'{k} x{v}' for k, v in sorted(fused.items()))}" if fused
                else f"found {found} but the optimizer fused nothing"]

    settings = {"model_type": model_type, "num_heads": num_heads, "hidden_size": hidden_size,
                "tool": tool_versions("onnxruntime")}
    return cached(model.sha256, "ort-transformer-fusion", settings, "model.onnx", run)

