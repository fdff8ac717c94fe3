"""Instance layouts: I instances x T threads each, and the cores each instance is pinned to."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass

from edgebench.results.errors import UserError

_LAYOUT = re.compile(r"^(\d+)x(\d+)(?:-(spin|nospin))?$")


@dataclass(frozen=True)
class Layout:
    instances: int
    threads: int
    # ONNX Runtime's intra-op spinning: None keeps the runtime's default (on); False where instances share cores
    spinning: bool | None = None

    @property
    def cores(self) -> int:
        return self.instances * self.threads

    @property
    def name(self) -> str:
        spin = "" if self.spinning is None else "-spin" if self.spinning else "-nospin"
        return f"{self.instances}x{self.threads}{spin}"


def usable_cpus() -> list[int]:
    return sorted(os.sched_getaffinity(0))


def default_layouts(cores: int, runtime: str) -> list[Layout]:
    """1x1, then every I x T that fills the machine with T a power of two; a single multi-thread ONNX Runtime
    instance both with spinning (its default) and without (what it would be beside other work)."""
    out = [Layout(1, 1)]
    t = 1
    while t <= cores:
        i = cores // t
        if i * t == cores and (i, t) != (1, 1):
            out += _with_spinning(Layout(i, t), runtime, cores)
        t *= 2
    return out


def _with_spinning(layout: Layout, runtime: str, cores: int) -> list[Layout]:
    if runtime != "onnxruntime":
        return [layout]
    if layout.cores > cores:  # instances share cores: a spinning thread would steal them from its neighbours
        return [Layout(layout.instances, layout.threads, False)]
    if layout.instances == 1 and layout.threads > 1:
        return [Layout(1, layout.threads, True), Layout(1, layout.threads, False)]
    return [layout]


def parse_layouts(text: str, runtime: str, cores: int) -> list[Layout]:
    """`1x1,2x1,1x2` (and `1x2-nospin`); a layout over the machine's cores shares them, with spinning off."""
    out: list[Layout] = []
    for item in filter(None, (s.strip() for s in text.split(","))):
        m = _LAYOUT.match(item)
        if not m or int(m.group(1)) < 1 or int(m.group(2)) < 1:
            raise UserError(f"--layouts: {item!r} is not INSTANCESxTHREADS (e.g. 2x1, 1x2, 1x2-nospin)")
        spin = None if m.group(3) is None or runtime != "onnxruntime" else m.group(3) == "spin"
        layout = Layout(int(m.group(1)), int(m.group(2)), spin)
        out += [layout] if spin is not None else _with_spinning(layout, runtime, cores)
    return list(dict.fromkeys(out))


def cpu_sets(layout: Layout, cpus: list[int]) -> list[list[int]]:
    """The CPUs of each instance: its own where they fit, else every CPU shared (empty list: not pinned)."""
    if layout.cores > len(cpus):
        return [[] for _ in range(layout.instances)]
    return [cpus[i * layout.threads:(i + 1) * layout.threads] for i in range(layout.instances)]
