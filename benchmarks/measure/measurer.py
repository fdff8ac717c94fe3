"""The seam between a run and where its benchmarks are timed: a Measurer takes one MeasureJob and returns the
figures and the pyperf file, as edgebench.benchmarks.measure.pyperf_timing.run_pyperf does.

The run's measure stage only ever calls `measurer.measure(job)`: LocalMeasurer times on this machine, and
edgebench.benchmarks.fleet.measurer.RayMeasurer sends the same job to a node of a Ray cluster (bench run --cluster).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from edgebench.benchmarks.measure.pyperf_timing import run_pyperf
from edgebench.benchmarks.measure.sampling import Sampling
from edgebench.results.record import Latency


@dataclass(frozen=True)
class MeasureJob:
    """Everything one benchmark's measurement needs: run_pyperf's arguments, by name."""

    bench_name: str
    runtime: str
    model: str
    threads: int
    settings: dict[str, Any]
    inputs_npz: Path
    workdir: Path
    sampling: Sampling
    seconds_per_inference: float
    timeout: float
    max_rss_mb: float | None = None
    extend: bool = False
    target_arch: str = ""
    # ends a full measurement that cannot change the answer (run_pyperf's stop_if); asked on this machine only,
    # since it reads the run's other records: a cluster node measures the job as planned
    stop_if: Callable[[Latency], str | None] | None = None


class Measurer(Protocol):
    def measure(self, job: MeasureJob) -> tuple[dict[str, Any], Path]:
        """(figures for the record, path of the benchmark's pyperf JSON in job.workdir); MeasureError on failure.
        Figures may carry measured_on and timing_scope when the benchmark ran on another machine."""
        ...

    def close(self) -> None: ...


class LocalMeasurer:
    """Times on this machine, in fresh pyperf worker processes."""

    def measure(self, job: MeasureJob) -> tuple[dict[str, Any], Path]:
        return run_pyperf(job.bench_name, job.runtime, job.model, job.threads, job.settings, job.inputs_npz,
                          job.workdir, job.sampling, job.seconds_per_inference, job.timeout, job.max_rss_mb,
                          job.extend, job.stop_if)

    def close(self) -> None:
        return None
