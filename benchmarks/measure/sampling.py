"""How many pyperf worker processes one measurement uses, and when it may stop.

A measurement runs its worker processes in batches. After each batch the 95% CI of the median is computed from all
samples so far, processes told apart; an adaptive measurement stops once that CI is within +/- target_ci_pct of the
median, but never before min_processes (one process alone says nothing about how much processes disagree) and never
after max_processes (the mode's budget). A screening measurement is one short batch: enough to tell a variant that cannot win from one that
can, not enough to publish as the answer. An exhaustive measurement always runs the mode's full process count.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from edgebench.results.record import Latency, Measurement, Method
from edgebench.results.stability import MAX_PROCESS_SPREAD, process_spread
from edgebench.results.stats import ci_half_width_pct

TARGET_CI_PCT = 1.0  # stop once the median's 95% CI is within +/-1%

# processes: the most worker processes of a full measurement (all of them when exhaustive); min_processes: the
# fewest before sampling may stop early; budget: seconds of timed inferences per process (sets the value count
# from the model's speed, within nmin..nmax); screen_*: the one short batch of a screening measurement.
MODES: dict[str, dict[str, float]] = {
    "fast": {"processes": 3, "min_processes": 2, "warmups": 3, "budget": 0.25, "nmin": 10, "nmax": 200,
             "screen_processes": 1, "screen_budget": 0.1},
    # default: 6 processes of 0.5 s. Processes disagree far more than samples on a shared machine, so the CI narrows
    # with the count of processes, not of samples: more, shorter processes buy more certainty per second than fewer
    # long ones.
    "default": {"processes": 6, "min_processes": 3, "warmups": 5, "budget": 0.5, "nmin": 20, "nmax": 500,
                "screen_processes": 2, "screen_budget": 0.2},
    # rigorous never stops early and never screens: min_processes = processes
    "rigorous": {"processes": 20, "min_processes": 20, "warmups": 10, "budget": 2.0, "nmin": 30, "nmax": 1000,
                 "screen_processes": 20, "screen_budget": 2.0},
}


@dataclass(frozen=True)
class Sampling:
    """The plan of one measurement: a screening run, an adaptive full run, or an exhaustive full run."""

    screening: bool
    min_processes: int
    max_processes: int
    target_ci_pct: float | None  # None: no early stop
    budget: float
    warmups: int
    nmin: int
    nmax: int

    def pyperf_args(self, seconds_per_inference: float) -> list[str]:
        """Values per process from the model's speed, one inference per value (so percentiles are per inference)."""
        per = max(seconds_per_inference, 1e-6)
        values = int(min(self.nmax, max(self.nmin, self.budget / per)))
        return ["--values", str(values), "--warmups", str(self.warmups), "--loops", "1"]

    def next_batch(self, done: int, lat: Latency | None) -> int:
        """Processes to run next: first the minimum, then about as many as the CI's width predicts are missing."""
        if done < self.min_processes:  # also a full measurement that goes on from its screening processes
            return self.min_processes - done
        left = max(1, self.max_processes - done)
        width = ci_half_width_pct(lat) if lat else None
        if self.target_ci_pct is None or width is None:
            return left
        # the CI narrows with sqrt(n): (width / target)^2 times the processes so far should reach the target
        wanted = math.ceil(done * (width / self.target_ci_pct) ** 2) - done
        return max(1, min(left, wanted))

    def verdict(self, done: int, lat: Latency, process_medians: list[float]) -> Method | None:
        """How the measurement ends after `done` processes: a Measurement method, or None to go on sampling.

        From 3 processes on, the median's CI includes how much the processes disagree (results/stats.py); with
        fewer it cannot, so early stopping also needs the processes' medians to agree (the spread the instability
        warnings use). When they disagree, more processes are what averages the disagreement out.
        """
        if self.screening:
            return "screened"
        if done >= self.max_processes:
            return "full"
        width, spread = ci_half_width_pct(lat), process_spread(process_medians)
        if done >= self.min_processes and self.target_ci_pct is not None and width is not None \
                and width <= self.target_ci_pct and spread is not None and spread <= MAX_PROCESS_SPREAD:
            return "stopped-early"
        return None

    def describe(self, method: Method, done: int, lat: Latency, process_medians: list[float]) -> Measurement:
        out = Measurement(method=method, processes=done, samples=int(lat.get("n", 0)), target_ci_pct=self.target_ci_pct,
                          process_medians_ms=[round(m, 5) for m in process_medians])
        width = ci_half_width_pct(lat)
        if width is not None:
            out["median_ci_pct"] = round(width, 3)
        return out

    def warnings(self, method: str, lat: Latency) -> list[str]:
        """A full measurement that used its whole budget without reaching the target says so."""
        width = ci_half_width_pct(lat)
        if method == "full" and self.target_ci_pct is not None and (width is None or width > self.target_ci_pct):
            # the CI's wider side in % of the median: an interval's size, never a "+/-" of an asymmetric one
            shown = "of unknown width" if width is None else f"reaches {width:.1f}% from the median"
            return [f"median CI {shown}, beyond the {self.target_ci_pct:g}% target after "
                    f"{self.max_processes} processes"]
        return []


def sampling_for(mode: str, screening: bool = False, exhaustive: bool = False, upto: int | None = None) -> Sampling:
    """The Sampling of a mode: its screening run, its adaptive full run, or (exhaustive) its fixed full run.

    `upto` stops a screening after that many processes: screening runs in rounds of one process per benchmark, so
    the processes of one benchmark sample moments of the machine half a minute apart, not one burst of a neighbour.
    """
    m = MODES[mode]
    common = {"warmups": int(m["warmups"]), "nmin": int(m["nmin"]), "nmax": int(m["nmax"])}
    if screening:
        n = min(int(m["screen_processes"]), upto or int(m["screen_processes"]))
        return Sampling(True, n, n, None, m["screen_budget"], **common)
    top = int(m["processes"])
    if exhaustive or int(m["min_processes"]) >= top:
        return Sampling(False, top, top, None, m["budget"], **common)
    return Sampling(False, int(m["min_processes"]), top, TARGET_CI_PCT, m["budget"], **common)
