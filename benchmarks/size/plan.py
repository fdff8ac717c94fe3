"""What one `bench size` is asked to do (SizeOptions), how deep each mode measures (Mode), and the SLO's syntax."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgebench.results.errors import UserError

_SLO = re.compile(r"^p(\d{1,2}(?:\.\d+)?)\s*=\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|us)$")


@dataclass(frozen=True)
class Mode:
    name: str
    interference_s: float  # closed loop, per number of busy instances
    min_duration_s: float  # per load point (LoadGen runs until this and min_queries are both met)
    min_queries: int
    max_points: int  # load points per layout in the capacity search
    resolution: float  # the search stops when the VALID/INVALID bracket is this narrow (fraction of the rate)
    layout_budget_s: float  # load-point seconds per layout: the search ends before a point that would pass it


# min_queries: 459 is the fewest that can claim a p99 at 99% confidence (none over the bound), 662 allows one over.
MODES = {"fast": Mode("fast", 0.6, 1.0, 459, 4, 0.10, 15.0),
         "default": Mode("default", 2.0, 3.0, 662, 6, 0.04, 45.0)}


def parse_slo(text: str) -> tuple[float, float]:
    """`p99=10ms` -> (0.99, 10.0): the percentile as a fraction and the bound in ms."""
    m = _SLO.match(text.strip().lower())
    if not m:
        raise UserError(f"--slo: expected a percentile and a latency such as p99=10ms or p90=5ms, got {text!r}")
    pct = float(m.group(1))
    bound = float(m.group(2)) * {"ms": 1.0, "s": 1e3, "us": 1e-3}[m.group(3)]
    if not 50 <= pct < 100 or bound <= 0:
        raise UserError(f"--slo: the percentile must be p50..p99.9 and the bound positive, got {text!r}")
    return pct / 100, bound


@dataclass
class SizeOptions:
    run_dir: Path
    doc: dict[str, Any]  # the run's results.json
    percentile: float
    bound_ms: float
    rate: float
    mode: Mode
    price_per_core_hour: float | None = None
    variants: list[str] | None = None
    layouts: str | None = None  # "1x1,2x1"; None: every layout that fits the machine
    rates: list[float] | None = None  # fixed load points instead of the search
    timeout: float = 600.0
    max_rss_mb: float | None = None
    cpus: list[int] = field(default_factory=list)

    @property
    def hang_s(self) -> float:
        """How long one query may take before its instance counts as hung."""
        return min(self.timeout, max(10.0, self.bound_ms * 1e-3 * 100))
