"""What a run is asked to do (RunOptions) and how it tells the user about progress (Reporter)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from edgebench.benchmarks.run.prior import Prior
from edgebench.hardware_profiles import Profile


class Reporter(Protocol):
    """stage() starts a stage of `total` items; advance(text) names the item that starts now. A reporter may also
    have done(text, status), called through item_done() once that item has ended ('ok', 'failed', 'skipped')."""
    def stage(self, text: str, total: int | None = None) -> None: ...
    def advance(self, text: str | None = None) -> None: ...
    def note(self, text: str) -> None: ...


def item_begin(reporter: Reporter, text: str) -> None:
    """An item that may run beside others starts: begin() where the reporter has it, else advance()."""
    getattr(reporter, "begin", reporter.advance)(text)


def item_done(reporter: Reporter, text: str, status: str) -> None:
    """Tell a reporter that has the optional done() how the item advance(text) named has ended."""
    done = getattr(reporter, "done", None)
    if done is not None:
        done(text, status)


class SilentReporter:
    def stage(self, text: str, total: int | None = None) -> None: ...
    def advance(self, text: str | None = None) -> None: ...
    def note(self, text: str) -> None: ...


@dataclass
class RunOptions:
    profile: Profile
    out: Path
    model: str | None = None
    threads: list[int] | None = None
    batches: list[int] | None = None
    variants: list[str] | None = None
    data: str | None = None
    mode: str = "default"
    timeout: float = 600.0
    run_id: str = ""
    resume: Prior | None = None  # set when finishing an interrupted run
    op_profile: bool = False
    # no screening, no early stop: every record measured with the mode's full process count (--rigorous implies it)
    exhaustive: bool = False
    cluster: str | None = None  # a Ray cluster's address: benchmarks are timed on its nodes (bench run --cluster)
    input_shapes: dict[str, list[int]] | None = None  # --input-shape NAME=D0,D1,...: symbolic dimensions fixed
    vocab_size: int | None = None  # random integer inputs stay below it
    output_kinds: dict[str, str] | None = None  # --output NAME=KIND: what an output is (accuracy figures fit it)
    preprocess: str | None = None  # --preprocess for an image folder given as --data
    mixed: bool = False  # --mixed: search for a mixed-precision int8 variant even when full int8 keeps the budget
