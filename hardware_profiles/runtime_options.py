"""The [onnxruntime] and [litert] tables of a profile as typed, validated options.

Checked when the profile loads, so a typo such as `graph_optimisation_level` fails at once with one line instead of
being ignored while every measurement silently runs with the default. Worker processes get `settings()`, a plain
JSON-ready dict: they are separate processes and the runtime modules read dicts.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, fields
from typing import Any, ClassVar, TypeVar

from edgebench.hardware_profiles.optimizer_settings import OFFLINE_LEVELS

# ONNX Runtime's GraphOptimizationLevel, in the same words as optimization.onnx_offline_level
GRAPH_LEVELS = OFFLINE_LEVELS

_T = TypeVar("_T", bound="_RuntimeOptions")


def _shown(value: Any) -> str:
    """A value as the user wrote it in TOML (true, "all"), kept short so the message stays one line."""
    try:
        text = json.dumps(value, default=str)
    except (TypeError, ValueError):  # e.g. a table with non-string keys, only possible when built in Python
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(frozen=True)
class _RuntimeOptions:
    SECTION: ClassVar[str] = ""

    @classmethod
    def known_keys(cls) -> list[str]:
        return sorted(f.name for f in fields(cls))

    @classmethod
    def from_table(cls: type[_T], table: dict[str, Any]) -> _T:
        """The options of one profile table; ValueError with a one-line message on an unknown key or bad value."""
        unknown = sorted(set(table) - set(cls.known_keys()))
        if unknown:
            keys = ", ".join(repr(k) for k in unknown)
            raise ValueError(f"unknown key{'s' if len(unknown) > 1 else ''} {keys} in [{cls.SECTION}] "
                             f"(known: {', '.join(cls.known_keys())})")
        return cls(**table)

    def _bad(self, key: str, allowed: str) -> ValueError:
        return ValueError(f"{self.SECTION}.{key} must be {allowed} (got {_shown(getattr(self, key))})")

    def _check_bool(self, key: str) -> None:
        if not isinstance(getattr(self, key), bool):
            raise self._bad(key, "true or false")


@dataclass(frozen=True)
class OrtOptions(_RuntimeOptions):
    """[onnxruntime]: how every ONNX Runtime session is made."""
    SECTION: ClassVar[str] = "onnxruntime"

    graph_optimization_level: str = "all"
    # None: the profile does not say, so ONNX Runtime keeps its own default (spinning on)
    intra_op_spinning: bool | None = None
    # a list measures each value in turn (arena on and off), labelled arena-on / arena-off
    enable_cpu_mem_arena: bool | tuple[bool, ...] = True

    def __post_init__(self) -> None:
        if not isinstance(self.graph_optimization_level, str) or self.graph_optimization_level not in GRAPH_LEVELS:
            raise self._bad("graph_optimization_level", f"one of {', '.join(GRAPH_LEVELS)}")
        if self.intra_op_spinning is not None:
            self._check_bool("intra_op_spinning")
        arena = self.enable_cpu_mem_arena
        if isinstance(arena, (list, tuple)) and arena and all(isinstance(a, bool) for a in arena):
            if len(set(arena)) != len(arena):  # two runs with one value would get one benchmark name
                raise self._bad("enable_cpu_mem_arena", "a list naming true and false at most once each")
            object.__setattr__(self, "enable_cpu_mem_arena", tuple(arena))  # TOML gives a list; frozen wants a tuple
        elif not isinstance(arena, bool):
            raise self._bad("enable_cpu_mem_arena", "true, false or a list of both to measure each")

    def settings(self) -> dict[str, Any]:
        """The JSON-ready settings for the worker; an arena list stays a list (the run measures each value)."""
        out: dict[str, Any] = {"graph_optimization_level": self.graph_optimization_level}
        if self.intra_op_spinning is not None:  # absent, not null: the worker leaves ORT's default alone
            out["intra_op_spinning"] = self.intra_op_spinning
        arena = self.enable_cpu_mem_arena
        out["enable_cpu_mem_arena"] = list(arena) if isinstance(arena, tuple) else arena
        return out


@dataclass(frozen=True)
class LiteRTOptions(_RuntimeOptions):
    """[litert]: how every LiteRT interpreter is made."""
    SECTION: ClassVar[str] = "litert"

    # false: LiteRT's builtin kernels only, to measure what XNNPACK adds
    xnnpack: bool = True

    def __post_init__(self) -> None:
        self._check_bool("xnnpack")

    def settings(self) -> dict[str, Any]:
        """The JSON-ready settings for the worker."""
        return {"xnnpack": self.xnnpack}
