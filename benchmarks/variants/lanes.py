"""The variants in two converter children at once: the LiteRT chain in one, the ONNX chain in the other.

On a 2-core machine the two chains overlap well: TensorFlow's converter and tf2onnx spend most of their time on one
core, so both at once take little more than the longer alone (docs/PERFORMANCE.md). What both chains start from (the
Keras export, a .tflite source's ONNX form) is built first, alone, so that neither child builds it a second time;
should that fail, the variants are built one after another as before, each failing with its own reason.

Two things keep both cores busy to the end:
- While the first child builds what both chains start from, the second runs `beside` (the run's reference outputs),
  which needs no conversion; the first starts its chain as soon as the parents exist, without waiting for it.
- The LiteRT variants of a Keras or SavedModel source each start from the exported graph alone, so either child may
  build them: the first takes them longest first, and the second, once its own chain is done, takes what is left.
  On the default model the ONNX chain ended 15 s before the LiteRT one without this.
"""
from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from edgebench.benchmarks.isolation.side_by_side import Emit, Job, side_by_side
from edgebench.benchmarks.variants.converter_parent import Built, ConverterProcess
from edgebench.benchmarks.variants.data import DataSet
from edgebench.benchmarks.variants.sources import ModelSource
from edgebench.benchmarks.variants.specs import VariantSpec
from edgebench.hardware_profiles import Profile

# Full-integer conversions calibrate on the data, which makes them the longest LiteRT builds.
# Started first, they never leave one child finishing alone.
LONGEST_FIRST = ("tflite-int8-io", "tflite-int8")
Beside = Callable[[ConverterProcess, Emit], None]


def build_in_lanes(converter: ConverterProcess, specs: list[VariantSpec], source: ModelSource, profile: Profile,
                   data: DataSet, input_names: list[str], workdir: Path,
                   on_start: Callable[[str], None] | None = None,
                   on_done: Callable[[str, str], None] | None = None,
                   helper: ConverterProcess | None = None, beside: Beside | None = None) -> list[Built]:
    """Every spec built, in `specs` order: the first runtime's variants by `converter`, the others by `helper` (a
    second converter, perhaps warmed up already), which this call closes. `beside(helper, emit)` runs while the
    shared parents are built; it is not run when there is one lane only. Callbacks run in the calling thread."""
    helper = helper or ConverterProcess(converter.timeout)
    lanes = [[s for s in specs if s.runtime == runtime] for runtime in dict.fromkeys(s.runtime for s in specs)]
    if len(lanes) < 2:
        helper.kill()  # perhaps still importing TensorFlow for nothing
        return converter.build_all(specs, source, profile, data, input_names, workdir, on_start, on_done)
    converter.start()  # both children from this thread: they die with the thread that started them
    helper.start()
    build = _Builder(source, profile, data, input_names, workdir, {})
    try:
        side_by_side(_jobs(converter, helper, specs, lanes, build, beside), on_start, on_done)
    except BaseException:  # Ctrl-C: no converter child outlives the run
        converter.kill()
        helper.kill()
        raise
    finally:
        helper.close()
    converter.adopt_known(helper)
    return [build.results[s.name] for s in specs if s.name in build.results]


def _jobs(converter: ConverterProcess, helper: ConverterProcess, specs: list[VariantSpec],
          lanes: list[list[VariantSpec]], build: _Builder, beside: Beside | None) -> list[Job]:
    """The first child builds the shared parents, then its lane; the second runs `beside` meanwhile and starts its
    lane once the parents exist (not once `beside` and the parents are both done: the first child never waits).
    Then each takes from the shared queue. Without the parents, the first child builds everything in order."""
    ready, prepared = threading.Event(), [False]
    shared = _shared_queue(lanes[0], build.source)

    def first(emit: Emit) -> None:
        try:
            prepared[0] = converter.prepare(build.source, build.profile, build.data, build.input_names, build.workdir)
        finally:
            ready.set()
        if not prepared[0]:
            build.all(converter, specs, emit)  # each variant fails with its own reason
            return
        build.all(converter, [s for s in lanes[0] if s not in shared.specs], emit)
        build.take_all(converter, shared, emit)

    def second(emit: Emit) -> None:
        if beside is not None:
            beside(helper, emit)
        ready.wait()
        if prepared[0]:
            build.all(helper, [s for rest in lanes[1:] for s in rest], emit)
            build.take_all(helper, shared, emit)
    return [first, second]


@dataclass
class _Builder:
    """What every build request carries, and where the results go."""

    source: ModelSource
    profile: Profile
    data: DataSet
    input_names: list[str]
    workdir: Path
    results: dict[str, Built]

    def all(self, conv: ConverterProcess, specs: list[VariantSpec], emit: Emit) -> None:
        for b in conv.build_all(specs, self.source, self.profile, self.data, self.input_names, self.workdir,
                                lambda name: emit("start", name, ""), lambda name, status: emit("done", name, status)):
            self.results[b.spec.name] = b

    def take_all(self, conv: ConverterProcess, shared: _Shared, emit: Emit) -> None:
        while (spec := shared.take()) is not None:
            self.all(conv, [spec], emit)


class _Shared:
    """Variants either child may build, taken one at a time."""

    def __init__(self, specs: list[VariantSpec]) -> None:
        self._left = deque(specs)
        self._lock = threading.Lock()
        self.specs = list(specs)

    def take(self) -> VariantSpec | None:
        with self._lock:
            return self._left.popleft() if self._left else None


def _shared_queue(first: list[VariantSpec], source: ModelSource) -> _Shared:
    """The LiteRT variants either child may build, longest first: those of a source whose TensorFlow graph the
    shared parents already hold (from a .tflite or .onnx source, onnx2tf makes it, and two children would both run it)."""
    if source.format not in ("keras", "savedmodel"):
        return _Shared([])
    mine = [s for s in first if s.runtime == "litert"]
    return _Shared(sorted(mine, key=lambda s: s.name not in LONGEST_FIRST))
