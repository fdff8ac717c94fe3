"""The runtime settings a profile asks for, expanded into the configurations a run measures."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from edgebench.hardware_profiles import Profile
from edgebench.results.record import Record

Sweep = tuple[str | None, dict[str, Any]]  # (label such as "arena-off", settings passed to the runtime)


def settings_sweep(profile: Profile, runtime: str) -> list[Sweep]:
    """(label, settings) per runtime configuration to measure: a profile may list enable_cpu_mem_arena = [true, false]."""
    base = (profile.litert if runtime == "litert" else profile.onnxruntime).settings()
    arena = base.get("enable_cpu_mem_arena", True)
    if runtime == "onnxruntime" and isinstance(arena, list):
        return [(f"arena-{'on' if a else 'off'}", dict(base, enable_cpu_mem_arena=bool(a))) for a in arena]
    return [(None, base)]


def runtime_settings(profile: Profile, runtime: str) -> dict[str, Any]:
    """The runtime's settings with any sweep collapsed to its first value (used for load tests and accuracy)."""
    return settings_sweep(profile, runtime)[0][1]


def latency_asked(profile: Profile) -> Callable[[Record], bool]:
    """Whether the profile asks for the latency of a record's runtime setting: every setting with
    [benchmark] sweep_latency = "all", else the first of each runtime's sweep only (the others are screened)."""
    first = {rt: settings_sweep(profile, rt)[0][0] for rt in ("litert", "onnxruntime")}
    return lambda r: profile.sweep_latency == "all" or r.get("settings_label") == first.get(r["runtime"])
