"""The runtimes as people name them, and the order reports list them in.

One table, so the terminal, the HTML report, `bench size` and the run's own notes never call a runtime two things.
A runtime this version does not know (a newer run may add one) shows under its own identifier.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# The full name where there is room, and the short one in table columns and chart labels.
NAMES: dict[str, str] = {"litert": "LiteRT", "onnxruntime": "ONNX Runtime"}
SHORT_NAMES: dict[str, str] = {"litert": "LiteRT", "onnxruntime": "ORT"}
ORDER = ("litert", "onnxruntime")


def _identifier(runtime: Any) -> str:
    return "?" if runtime is None else str(runtime)


def runtime_name(runtime: Any) -> str:
    """"ONNX Runtime" for "onnxruntime"; "?" for a missing runtime."""
    return NAMES.get(str(runtime), _identifier(runtime))


def short_runtime_name(runtime: Any) -> str:
    """"ORT" for "onnxruntime": for narrow columns and chart labels."""
    return SHORT_NAMES.get(str(runtime), _identifier(runtime))


def runtimes(records: Iterable[Mapping[str, Any]]) -> list[str]:
    """The runtimes of `records`: LiteRT, ONNX Runtime, then any other in name order."""
    seen = [str(r.get("runtime")) for r in records if r.get("runtime") is not None]
    known = [rt for rt in ORDER if rt in seen]
    return known + sorted(set(seen) - set(known))
