"""The variants in two converter children at once: the LiteRT chain in one, the ONNX chain in the other.

On a 2-core machine the two chains overlap well: TensorFlow's converter and tf2onnx spend most of their time on one
core. Measured on the default model (2-core Xeon VM, fresh cache): the TFLite chain alone 46 s, the ONNX chain
alone 43 s, both at once 57 s. What both chains start from (the Keras export, a .tflite source's ONNX form) is
built first, alone, so that neither child builds it a second time; should that fail, the variants are built one
after another as before, each failing with its own reason.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from edgebench.benchmarks.build.convertproc import Built, ConverterProcess
from edgebench.benchmarks.build.data import DataSet
from edgebench.benchmarks.build.sources import ModelSource
from edgebench.benchmarks.build.variants import VariantSpec
from edgebench.benchmarks.isolation.side_by_side import Emit, side_by_side
from edgebench.hardware_profiles import Profile


def build_in_lanes(converter: ConverterProcess, specs: list[VariantSpec], source: ModelSource, profile: Profile,
                   data: DataSet, input_names: list[str], workdir: Path,
                   on_start: Callable[[str], None] | None = None,
                   on_done: Callable[[str, str], None] | None = None,
                   helper: ConverterProcess | None = None) -> list[Built]:
    """Every spec built, in `specs` order: the first runtime's variants by `converter`, the others by `helper` (a
    second converter, perhaps warmed up already), which this call closes. Callbacks run in the calling thread."""
    helper = helper or ConverterProcess(converter.timeout)
    lanes = [[s for s in specs if s.runtime == runtime] for runtime in dict.fromkeys(s.runtime for s in specs)]
    if len(lanes) < 2 or not converter.prepare(source, profile, data, input_names, workdir):
        helper.kill()  # perhaps still importing TensorFlow for nothing
        return converter.build_all(specs, source, profile, data, input_names, workdir, on_start, on_done)
    converter.start()  # both children from this thread: they die with the thread that started them
    helper.start()
    results: dict[str, Built] = {}

    def lane(conv: ConverterProcess, mine: list[VariantSpec]) -> Callable[[Emit], None]:
        def job(emit: Emit) -> None:
            for b in conv.build_all(mine, source, profile, data, input_names, workdir,
                                    lambda name: emit("start", name, ""),
                                    lambda name, status: emit("done", name, status)):
                results[b.spec.name] = b
        return job

    try:
        side_by_side([lane(converter, lanes[0]), lane(helper, [s for rest in lanes[1:] for s in rest])],
                     on_start, on_done)
    except BaseException:  # Ctrl-C: no converter child outlives the run
        converter.kill()
        helper.kill()
        raise
    finally:
        helper.close()
    converter.adopt_known(helper)
    return [results[s.name] for s in specs if s.name in results]
