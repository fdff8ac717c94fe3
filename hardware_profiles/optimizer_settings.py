"""The [quantization] and [optimization] tables of a profile: which settings each optimizer pass runs with.

Checked when the profile loads, so a typo fails at once with one line, not after minutes of conversion.
"""
from __future__ import annotations

import re
from typing import Any

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
QUANT_KEYS = {"calibration_samples", "tflite_int8_io_type", "onnx_dynamic", "onnx_static", "mixed_search_s"}
STATIC_KEYS = {"name", "format", "activation_type", "weight_type", "per_channel", "reduce_range", "calibration",
               "percentile", "pre_process", "source"}
STATIC_SOURCES = ("onnx-fp32", "onnx-rewritten")  # what a static candidate quantizes: rewrite first, then quantize
DYNAMIC_KEYS = {"weight_type", "per_channel", "reduce_range"}
OPTIMIZATION_KEYS = {"onnx_offline_level", "ort_format_target", "ort_format_source", "transformer_model_type",
                     "rewrite_threshold", "rewrite_rules"}
OFFLINE_LEVELS = ("disable", "basic", "extended", "layout", "all")
DEFAULT_CALIBRATION_SAMPLES = 128


def _unknown(table: dict[str, Any], allowed: set[str], where: str) -> str | None:
    extra = sorted(set(table) - allowed)
    return f"unknown key(s) {', '.join(extra)} in [{where}] (known: {', '.join(sorted(allowed))})" if extra else None


def static_candidates(quantization: dict[str, Any]) -> list[dict[str, Any]]:
    """The [[quantization.onnx_static]] candidates; none listed means one candidate with the library defaults."""
    value = quantization.get("onnx_static", [])
    return [dict(c) for c in value] if isinstance(value, list) else [dict(value)]


def check(quantization: dict[str, Any], optimization: dict[str, Any]) -> str | None:
    """The first problem as one line, or None."""
    from edgebench.optimizers.onnx_quant import DynamicOptions, StaticOptions
    from edgebench.optimizers.tflite_quant import IO_TYPES

    problem = _unknown(quantization, QUANT_KEYS, "quantization") or _unknown(optimization, OPTIMIZATION_KEYS,
                                                                             "optimization")
    if problem:
        return problem
    n = quantization.get("calibration_samples", DEFAULT_CALIBRATION_SAMPLES)
    if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
        return "quantization.calibration_samples must be a positive integer"
    s = quantization.get("mixed_search_s", 600)
    if not isinstance(s, (int, float)) or isinstance(s, bool) or s < 0:
        return "quantization.mixed_search_s must be a number of seconds >= 0"
    if quantization.get("tflite_int8_io_type", "int8") not in IO_TYPES[1:]:
        return "quantization.tflite_int8_io_type must be int8 or uint8"
    dyn = quantization.get("onnx_dynamic", {})
    if not isinstance(dyn, dict):
        return "[quantization.onnx_dynamic] must be a table"
    problem = _unknown(dyn, DYNAMIC_KEYS, "quantization.onnx_dynamic")
    if problem:
        return problem
    try:
        DynamicOptions(**dyn)
    except (TypeError, ValueError) as exc:
        return f"[quantization.onnx_dynamic]: {exc}"
    raw = quantization.get("onnx_static", [])
    if not isinstance(raw, (list, dict)):
        return "quantization.onnx_static must be a table or an array of tables ([[quantization.onnx_static]])"
    names: set[str | None] = set()  # None: the one unnamed candidate a single-candidate profile may have
    for cand in static_candidates(quantization):
        problem = _unknown(cand, STATIC_KEYS, "quantization.onnx_static")
        if problem:
            return problem
        name = cand.pop("name", None)
        if len(static_candidates(quantization)) > 1 and name is None:
            return "every [[quantization.onnx_static]] candidate needs a name"
        if name is not None and (not isinstance(name, str) or not NAME_RE.match(name) or name in names):
            return f"quantization.onnx_static name {name!r} must be unique, lower-case letters, digits and '-'"
        names.add(name)
        if cand.pop("source", "onnx-fp32") not in STATIC_SOURCES:
            return f"[[quantization.onnx_static]] {name or ''}: source must be one of {', '.join(STATIC_SOURCES)}"
        try:
            StaticOptions(**cand)
        except (TypeError, ValueError) as exc:
            return f"[[quantization.onnx_static]] {name or ''}: {exc}"
    level = optimization.get("onnx_offline_level", "all")
    if level not in OFFLINE_LEVELS:
        return f"optimization.onnx_offline_level must be one of {', '.join(OFFLINE_LEVELS)}"
    if optimization.get("ort_format_target", "arm") not in ("arm", "amd64"):
        return "optimization.ort_format_target must be arm or amd64"
    for key in ("ort_format_source", "transformer_model_type"):
        if not isinstance(optimization.get(key, "x"), str):
            return f"optimization.{key} must be a string"
    return _check_rewrites(optimization)


def _check_rewrites(optimization: dict[str, Any]) -> str | None:
    from edgebench.optimizers.rewrites.rules import RULES

    share = optimization.get("rewrite_threshold", 0.1)
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 <= share <= 1:
        return "optimization.rewrite_threshold must be a share of time between 0 and 1 (e.g. 0.1 for 10%)"
    rules = optimization.get("rewrite_rules", list(RULES))
    if not isinstance(rules, list) or not rules or any(r not in RULES for r in rules):
        return f"optimization.rewrite_rules must be a non-empty list of: {', '.join(RULES)}"
    return None
