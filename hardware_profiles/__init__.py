"""Hardware profiles: TOML files naming a *target* CPU class and the settings to benchmark it with.

A profile describes where the model will be deployed, never the machine that happens to measure it:
the measuring host is recorded separately in every result.
"""
from __future__ import annotations

import os
import platform
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from edgebench.hardware_profiles.accuracy_budget import AccuracyBudget, budget_from_table
from edgebench.hardware_profiles.runtime_options import LiteRTOptions, OrtOptions
from edgebench.hardware_profiles.target_options import TargetOptions

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PROFILE_DIR = Path(__file__).resolve().parent
KNOWN_ARCHES = ("x86_64", "arm64")
_KNOWN_SECTIONS = {"name", "description", "target_arch", "benchmark", "accuracy", "variants", "litert", "onnxruntime",
                   "quantization", "optimization", "limits", "target"}
_TABLES = ("benchmark", "accuracy", "variants", "litert", "onnxruntime", "quantization", "optimization", "limits",
           "target")
_BENCHMARK_KEYS = ("threads", "batch", "sweep_latency", "objective")
# objective: what the decision minimises: the "median" latency, or the "p99" for a latency SLO (bench run --objective)
OBJECTIVES = ("median", "p99")
# sweep_latency: which settings of a runtime-settings sweep (e.g. enable_cpu_mem_arena = [true, false]) get a full
# latency measurement; "first" screens the others briefly (their memory figures are complete), "all" measures each.
SWEEP_LATENCY = ("first", "all")
# Sections that once were accepted but never read: refused with a pointer to what does the job, not silently kept
_RETIRED = {"memory": "[memory] was never read; a memory limit is [limits] max_rss_mb"}


class ProfileError(ValueError):
    """A profile that does not exist or does not follow the schema; the message is one line for the user."""

    def __init__(self, message: str) -> None:
        # keys and values come from the user's file: a key such as "\n" must not break the message over lines
        super().__init__("".join(c if c.isprintable() else repr(c)[1:-1] for c in message))


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    target_arch: str
    threads: tuple[int | str, ...]
    batch: tuple[int, ...]
    variants: tuple[str, ...]
    min_top1_agreement: float
    min_cosine: float
    litert: LiteRTOptions = field(default_factory=LiteRTOptions)
    onnxruntime: OrtOptions = field(default_factory=OrtOptions)
    quantization: dict[str, Any] = field(default_factory=dict)
    optimization: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    raw: dict[str, Any] = field(default_factory=dict)
    # [limits] max_rss_mb: resident memory any one benchmark process may use (edgebench.benchmarks.isolation.limits explains why RSS)
    max_rss_mb: float | None = None
    sweep_latency: str = "first"
    objective: str = "median"
    # [target]: the emulated target kernels that check accuracy on a host of another architecture
    target: TargetOptions = field(default_factory=TargetOptions)
    # [accuracy]: the bound of each output kind's figure, and the kinds the profile states per output
    accuracy: AccuracyBudget = field(default_factory=AccuracyBudget)

    def thread_counts(self, cores: int | None = None) -> list[int]:
        """Concrete thread counts on the measuring machine ("all" = its core count), de-duplicated, in order."""
        cores = cores or os.cpu_count() or 1
        out: list[int] = []
        for t in self.threads:
            n = cores if t == "all" else int(t)
            if n not in out:
                out.append(n)
        return out

    def to_dict(self) -> dict[str, Any]:
        return dict(self.raw, name=self.name, source=self.source)

    def with_objective(self, objective: str) -> Profile:
        """The profile with [benchmark] objective set (kept in `raw`, so a resumed run decides by it too)."""
        raw = dict(self.raw, benchmark=dict(self.raw.get("benchmark") or {}, objective=objective))
        return replace(self, objective=objective, raw=raw)


def host_arch() -> str:
    """The measuring host's architecture in profile vocabulary (x86_64 or arm64)."""
    m = platform.machine().lower()
    return {"amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}.get(m, m)


def builtin_profiles() -> list[str]:
    return sorted(p.stem for p in PROFILE_DIR.glob("*.toml"))


def _positive_int_list(value: Any, key: str, allow_all: bool) -> tuple:
    if not isinstance(value, list) or not value:
        raise ProfileError(f"{key} must be a non-empty list")
    for v in value:
        ok = (isinstance(v, int) and not isinstance(v, bool) and v > 0) or (allow_all and v == "all")
        if not ok:
            allowed = 'positive integers or "all"' if allow_all else "positive integers"
            raise ProfileError(f"{key} has invalid entry {v!r} ({allowed})")
    return tuple(value)


def parse_profile(data: dict[str, Any], source: str) -> Profile:
    """Validate a decoded TOML document; raises ProfileError naming the first problem."""
    unknown = sorted(set(data) - _KNOWN_SECTIONS)
    if unknown:
        hints = "".join(f"; {_RETIRED[k]}" for k in unknown if k in _RETIRED)
        raise ProfileError(f"unknown key(s) {', '.join(unknown)} in profile {source}{hints}")
    for key in ("name", "target_arch"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise ProfileError(f"profile {source} lacks the string key '{key}'")
    for section in _TABLES:
        if not isinstance(data.get(section, {}), dict):
            raise ProfileError(f"[{section}] in profile {source} must be a table, got {type(data[section]).__name__}")
    if data["target_arch"] not in KNOWN_ARCHES:
        raise ProfileError(f"target_arch must be one of {', '.join(KNOWN_ARCHES)}, got {data['target_arch']!r}")
    bench = data.get("benchmark", {})
    acc = data.get("accuracy", {})
    variants = data.get("variants", {}).get("build", ["tflite-fp32", "onnx-fp32"])
    if not isinstance(variants, list) or not all(isinstance(v, str) for v in variants) or not variants:
        raise ProfileError("variants.build must be a non-empty list of variant names")
    from edgebench.hardware_profiles.optimizer_settings import check
    problem = check(data.get("quantization", {}), data.get("optimization", {}))
    if problem:
        raise ProfileError(f"profile {source}: {problem}")
    try:
        litert = LiteRTOptions.from_table(data.get("litert", {}))
        onnxruntime = OrtOptions.from_table(data.get("onnxruntime", {}))
        target = TargetOptions.from_table(data.get("target", {}))
        budget = budget_from_table(acc)
    except ValueError as exc:
        raise ProfileError(f"profile {source}: {exc}") from None
    max_rss_mb = _limits(data.get("limits", {}))
    sweep_latency = _benchmark_keys(bench)
    return Profile(
        name=data["name"],
        description=str(data.get("description", "")),
        target_arch=data["target_arch"],
        threads=_positive_int_list(bench.get("threads", [1, "all"]), "benchmark.threads", True),
        batch=_positive_int_list(bench.get("batch", [1]), "benchmark.batch", False),
        variants=tuple(variants),
        min_top1_agreement=budget.min_top1_agreement,
        min_cosine=budget.min_cosine,
        litert=litert,
        onnxruntime=onnxruntime,
        quantization=dict(data.get("quantization", {})),
        optimization=dict(data.get("optimization", {})),
        source=source,
        raw=data,
        max_rss_mb=max_rss_mb,
        sweep_latency=sweep_latency,
        objective=_objective(bench),
        target=target,
        accuracy=budget,
    )


def _benchmark_keys(bench: dict[str, Any]) -> str:
    """Refuses unknown [benchmark] keys (a typo would silently measure something else); returns sweep_latency."""
    unknown = sorted(set(bench) - set(_BENCHMARK_KEYS))
    if unknown:
        raise ProfileError(f"unknown key(s) {', '.join(unknown)} in [benchmark] (known: {', '.join(_BENCHMARK_KEYS)})")
    value = bench.get("sweep_latency", "first")
    if value not in SWEEP_LATENCY:
        raise ProfileError(f"benchmark.sweep_latency must be one of {', '.join(SWEEP_LATENCY)}, got {value!r}")
    return str(value)


def _objective(bench: dict[str, Any]) -> str:
    value = bench.get("objective", "median")
    if value not in OBJECTIVES:
        raise ProfileError(f"benchmark.objective must be one of {', '.join(OBJECTIVES)}, got {value!r}")
    return str(value)


def _limits(limits: dict[str, Any]) -> float | None:
    unknown = set(limits) - {"max_rss_mb"}
    if unknown:
        raise ProfileError(f"unknown key(s) {', '.join(sorted(unknown))} in [limits] (known: max_rss_mb)")
    v = limits.get("max_rss_mb")
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v < float("inf"):
        raise ProfileError(f"limits.max_rss_mb must be a positive number of megabytes, got {v!r}")
    return float(v)


def load_profile(name_or_path: str) -> Profile:
    """A built-in profile by name, or the user's own TOML file by path."""
    path = Path(name_or_path)
    if name_or_path in builtin_profiles():
        path = PROFILE_DIR / f"{name_or_path}.toml"
    elif not (path.suffix == ".toml" or path.exists()):
        raise ProfileError(f"unknown profile {name_or_path!r}; built-in profiles: {', '.join(builtin_profiles())} "
                           "(or pass the path of a .toml file)")
    if not path.is_file():
        raise ProfileError(f"profile file not found: {path}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProfileError(f"profile {path} is not valid TOML: {(str(exc).splitlines() or [''])[0]}") from None
    except RecursionError:  # tomllib recurses on nested arrays: a hostile file must not end in a traceback
        raise ProfileError(f"profile {path} is not valid TOML: nested too deeply") from None
    except OSError as exc:
        raise ProfileError(f"profile {path} cannot be read: {exc.strerror or exc}") from None
    return parse_profile(data, str(path))
