"""One run's shared state: what was asked, what it runs on, and the documents it writes."""
from __future__ import annotations

import typing
from dataclasses import dataclass, field
from typing import Any

from edgebench.benchmarks.measure.measurer import LocalMeasurer, Measurer
from edgebench.benchmarks.run.options import Reporter, RunOptions
from edgebench.benchmarks.run.settings import latency_asked
from edgebench.benchmarks.run.writer import RunWriter
from edgebench.benchmarks.variants.data import DataSet
from edgebench.benchmarks.variants.sources import ModelSource
from edgebench.hardware_profiles.accuracy_budget import AccuracyBudget
from edgebench.optimizers.artifacts import Artifact
from edgebench.results.record import Record, Runtime


@dataclass
class BuiltVariant:
    """A variant as the run knows it once built: its file, its accuracy and what measuring it needs."""

    name: str
    runtime: Runtime
    artifact: Artifact | None = None
    error: str | None = None
    accuracy: dict[str, Any] = field(default_factory=dict)
    outputs: list[Any] | None = None  # the variant's outputs on the evaluation inputs, until compared
    output_names: list[str] = field(default_factory=list)  # the variant's own names of its outputs
    seconds_per_inference: float = 1e-3
    input_order: list[int] = field(default_factory=list)
    group: str = "baseline"
    lineage: list[dict[str, Any]] = field(default_factory=list)
    target: list[dict[str, Any]] | None = None  # accuracy on the target's kernels (emulated), per CPU model
    mixed: dict[str, Any] | None = None  # a mixed-precision variant: layers kept in float, search steps, cost

    @property
    def path(self) -> str:
        """The variant's file; only asked of a variant that was built (no error)."""
        assert self.artifact is not None, f"{self.name} was not built"
        return self.artifact.path


@dataclass
class RunContext:
    opts: RunOptions
    reporter: Reporter
    source: ModelSource
    io_specs: list[dict[str, Any]]
    data: DataSet
    host: dict[str, Any]
    threads: list[int]
    batches: list[int]
    writer: RunWriter
    memo_hits: int = 0  # load tests whose outputs came from the cache (run/memo.py)
    measurer: Measurer = field(default_factory=LocalMeasurer)  # where benchmarks are timed: here, or a cluster

    @property
    def doc(self) -> dict[str, Any]:
        return self.writer.doc

    @property
    def budget(self) -> AccuracyBudget:
        """The profile's accuracy budget with the kinds --output states (they win over the profile's)."""
        return self.opts.profile.accuracy.with_outputs(self.opts.output_kinds or {})

    @property
    def host_is_target(self) -> bool:
        return bool(self.host["arch"] == self.opts.profile.target_arch)

    def note(self, text: str) -> None:
        self.doc["notes"].append(text)

    def warn(self, text: str) -> None:
        self.doc["warnings"].append(text)

    def pending(self, variant: str, runtime: str, threads: int, batch: int, label: str | None) -> bool:
        """Whether this benchmark still needs measuring (always, unless finishing an interrupted run)."""
        prior = self.opts.resume
        return prior is None or prior.pending(variant, runtime, threads, batch, label)

    def unfinished(self, variant: str, runtime: str, threads: int, batch: int, label: str | None) -> bool:
        """Whether this benchmark may still be measured: pending, or screened so far and perhaps a contender (so its
        variant's file is needed again)."""
        prior = self.opts.resume
        kept = prior.kept(variant, runtime, threads, batch, label) if prior else None
        if kept is None:
            return True
        screened = (kept.get("measurement") or {}).get("method") == "screened"
        return screened and latency_asked(self.opts.profile)(typing.cast(Record, kept))
