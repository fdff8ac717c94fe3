"""The [target] table of a profile: how accuracy is checked on the target's own kernels when the host is not one.

On a host of another architecture, `bench run` evaluates every variant on the target's real runtime builds under
qemu user-mode emulation (edgebench.benchmarks.emulation). `qemu_cpu` names the CPU models to emulate (each picks its
own kernels: with or without dotprod, i8mm, fp16 arithmetic), `samples` how many evaluation inputs each emulated
run gets: emulation is orders of magnitude slower than the real CPU, so it checks numerics on a bounded sample.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_CPU_NAME = re.compile(r"^[a-z0-9][a-z0-9_.+=,-]{0,63}$")  # qemu -cpu names and property lists (max,sve=off)
MAX_SAMPLES = 10000


@dataclass(frozen=True)
class TargetOptions:
    qemu_cpu: tuple[str, ...] = ("neoverse-n1",)
    samples: int = 16

    @classmethod
    def from_table(cls, table: dict[str, Any]) -> TargetOptions:
        """ValueError with a one-line message on an unknown key or a bad value."""
        unknown = sorted(set(table) - {"qemu_cpu", "samples"})
        if unknown:
            raise ValueError(f"unknown key(s) {', '.join(repr(k) for k in unknown)} in [target] (known: qemu_cpu, "
                             "samples)")
        cpus = table.get("qemu_cpu", list(cls.qemu_cpu))
        cpus = [cpus] if isinstance(cpus, str) else cpus
        if not isinstance(cpus, list) or not cpus or not all(isinstance(c, str) and _CPU_NAME.match(c) for c in cpus):
            raise ValueError("target.qemu_cpu must be a qemu CPU model name or a non-empty list of them "
                             "(e.g. [\"neoverse-n1\", \"cortex-a72\"]; qemu-aarch64 -cpu help lists them)")
        if len(set(cpus)) != len(cpus):
            raise ValueError("target.qemu_cpu names a CPU model twice")
        samples = table.get("samples", cls.samples)
        if isinstance(samples, bool) or not isinstance(samples, int) or not 0 < samples <= MAX_SAMPLES:
            raise ValueError(f"target.samples must be an integer from 1 to {MAX_SAMPLES}, got {samples!r}")
        return cls(tuple(cpus), samples)
